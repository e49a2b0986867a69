//! Per-device coherent DMA pools for dmad: exact under any request sequence, O(log n) per
//! operation, under two bits of free-space metadata per page.
//!
//! # Model
//!
//! This is Linux's `kernel/dma/coherent.c` as a library a user-space memory server calls,
//! with its debug checks always on and its bitmap search replaced.
//!
//! - A [`PoolRegistry`] holds the *reserved regions* the kernel declared as DMA memory and
//!   the device *pools* carved from them. A [`Pool`] serves exactly one device (by name) and
//!   has a name, `phys_base`, `device_base` (the device's address for the first byte, which
//!   may differ), a page count (4 KiB pages) and a [`CacheType`].
//! - [`PoolRegistry::alloc`] hands out `2^order` pages whose *device address* is aligned to
//!   the buffer's size (like `bitmap_find_free_region`), or to a larger explicit alignment.
//!   It returns the physical and device addresses and a [`BufferHandle`]; a [`Zeroer`] is
//!   called exactly once per successful allocation (dmad zeroes through its WC mapping).
//! - Buffers are released by handle and [`OwnerId`] (a process id in dmad), or by address.
//!   A handle carries its table slot's generation, so a stale handle (double release) or
//!   another owner's handle is refused, never misapplied.
//! - Mappings are counted ([`map_added`](PoolRegistry::map_added) /
//!   [`map_removed`](PoolRegistry::map_removed)). Releasing a mapped buffer kills its handle
//!   at once but keeps its pages out of the free set until the last mapping goes; the
//!   [`MappingToken`] dmad keeps per mapping stays valid until then.
//! - [`release_all`](PoolRegistry::release_all) reclaims everything an exiting owner held.
//! - [`quarantine`](PoolRegistry::quarantine) releases a buffer whose device may still reach
//!   it (a dead driver's device not confirmed quiet): its pages stay out of the free space,
//!   counted in [`PoolStats::quarantined_pages`], until
//!   [`release_quarantined`](PoolRegistry::release_quarantined) — Fuchsia's quarantine.
//! - **Debug mode** ([`set_poisoning`](PoolRegistry::set_poisoning), see `poison.rs`):
//!   freed pages are queued for dmad to fill with [`POISON`]
//!   ([`drain_freed`](PoolRegistry::drain_freed)), and a later allocation has dmad check
//!   exactly the poisoned pages before zeroing them ([`Zeroer::check_and_zero`]), so a
//!   device that wrote after free is caught. One bit per page, only while it is on.
//! - At most one pool is the *global* pool (Linux `CONFIG_DMA_GLOBAL_POOL`,
//!   [`set_global`](PoolRegistry::set_global)); [`pool_serving`](PoolRegistry::pool_serving)
//!   falls back to it for a device with no pool of its own. Whether that device may use it
//!   (known, granted) is dmad's check.
//! - Quotas in pages per owner (across pools) and per device; released-but-mapped pages stay
//!   charged until they really return, so unmapping late cannot dodge a quota.
//! - Every refused request returns a [`PoolError`] — one variant per Redox errno — and
//!   changes nothing but the pool's `failed_allocations` counter.
//!
//! [`streaming`] holds the decisions of userlib's streaming mappings (`dma_map_sg`): which
//! segment maps directly and which bounces, what is copied when, the bounce buffer cache.
//!
//! # Exactness
//!
//! An allocation fails with [`PoolError::OutOfMemory`] only if no run of `2^order` free pages
//! at a suitably aligned device address exists anywhere in the pool (or a bookkeeping table
//! is full). Property tests check this against an exhaustive page-map model, including pools
//! whose base is not aligned and explicit alignments beyond the buffer's size.
//!
//! [`PoolRegistry::alloc_constrained`] adds a device address mask and a boundary
//! ([`AllocConstraints`], see `request.rs`). A boundary is met by construction (buffers are
//! size-aligned powers of two). A mask that cuts the pool is met by taking aligned runs until
//! one lies below it and giving the others back: exact as long as fewer than 32 free aligned
//! runs lie above the mask; past that the answer is `ENOMEM`, never a buffer above the mask
//! (`tests/constraints.rs` checks both against the page model).
//!
//! Where a buffer lands differs from Linux's first fit: a small buffer goes to the lowest
//! partly used chunk with room, a large one to the lowest of the smallest free buddy blocks,
//! which keeps large blocks whole for longer. Given the same free pages, whether a request
//! succeeds never differs (the benchmark checks this on every state it measures).
//!
//! # Free-space structure and complexity
//!
//! Pages are grouped into 64-page chunks aligned in the device address space.
//!
//! - A buffer of 64 pages or more is a block of a **chunk buddy**: one free bitmap per order,
//!   each bit a maximal free block, each bitmap with a 64-ary summary hierarchy, so "lowest
//!   free block of order k" is O(log64 n) and splitting or merging touches one bit per order.
//! - A buffer of 1..32 pages lives in a **split chunk**, whose 64 pages are one word of
//!   free bits; six "has an aligned free run of 2^k pages" bitmaps (k = 0..5), summarised the
//!   same way, find the lowest chunk that fits, and word bit tricks find the run inside it.
//!   A split chunk that becomes entirely free rejoins the buddy, except that one such
//!   *spare* chunk is kept back so a pool cycling small buffers does not split and re-merge
//!   a buddy branch each time; a chunk allocation that fails merges the spare and retries,
//!   which is what keeps the search exact.
//!
//! - In front of both, a **hot cache** holds one recently released block per order (like the
//!   per-CPU page lists in front of Linux's buddy allocator): the next request of that order
//!   takes it in O(1) without splitting anything, and a request the structures cannot meet
//!   while hot blocks exist returns them (merging) and searches again, so exactness holds.
//!   [`PageAllocator`] is this free-space allocator alone, without the buffer records.
//!
//! A size-aligned allocation or a release costs O(log n) bitmap updates, each touching at
//! most ⌈log64 n⌉ summary words (3 for a 4 GiB pool): O(log n · log64 n) word operations,
//! nearly flat from 16 MiB to 4 GiB. An explicit alignment larger than the buffer can make
//! the search skip candidates that are free but misaligned; that path is exact but may cost
//! more. Nothing on the allocate, release, map and release-all paths allocates heap memory:
//! every table is sized when its pool (or the registry) is built, and a test counts the
//! global allocator's calls to prove it.
//!
//! # The registry's allocate/release path
//!
//! A driver that frees and allocates buffers of one size over and over should pay little
//! more than the hot cache does, with every check kept. What the registry does per
//! allocate+release pair, and what keeps it short:
//!
//! - **Parked records.** A freed record whose pages went into the hot cache is not unlinked
//!   from its chunk's start list nor pushed on the vacant list: its generation is bumped (so
//!   every handle and mapping token naming it is stale at once), its slot becomes the hot
//!   block's tag, and the allocation that takes that hot block gets the tag back and revives
//!   the record in place. A flush of the hot cache (a request only the hot pages can meet)
//!   vacates the records it reports, and a full table vacates a parked record before
//!   refusing, so parking costs neither exactness nor capacity (`buffers.rs`). The
//!   allocation tries the hot block of its order before anything else, so the flush
//!   machinery is not even set up on that path.
//! - **Parked records keep their owner's charge.** A release that parks touches no owner
//!   entry, and the same owner reviving the record changes no charge; a different owner
//!   reviving it moves the charge. Readers ([`PoolRegistry::owner_usage`],
//!   [`PoolRegistry::owners`]) subtract the records parked with an owner (found through the
//!   tagged hot blocks, at most one per order and pool). The quota check on the raw charge
//!   is stricter than the exact one, so only a refusal is decided again, with the owner's
//!   parked pages credited; a full owner table first vacates every parked record (an owner
//!   charged only for those becomes idle and makes room); [`PoolRegistry::release_all`] and
//!   [`PoolRegistry::retire`] take parked charges off. Quotas and the table's capacity stay
//!   exact.
//! - **Hints, checked in place.** The pool of the device allocated from last and the owner
//!   seen last are tried first, each with one bounds check and one comparison (the device
//!   name, the owner id); a miss falls back to the scan or binary search.
//! - **Owner charges laid out for the check.** Each owner entry keeps its charge (live plus
//!   deferred pages) beside its quota as a plain limit (`u64::MAX` for none), so the quota
//!   check is one addition and one comparison, and an allocate or release that does change
//!   a charge touches only the charge and the buffer count (live pages are derived for
//!   readers).
//! - **Counters that cost nothing.** The free space counts only the structures' free pages:
//!   bit `k` of the hot-order mask stands for a hot block of `2^k` pages, so the mask read
//!   as a number is the hot page count, and moving a block in or out of the hot cache
//!   updates no counter. The high-water mark is kept as the low-water mark of free pages
//!   (one comparison), and a pool's live buffers are counted from its buffer table when
//!   read (stats, retire), not on every pair.
//! - **32-byte buffer records.** 26 bytes of fields aligned to 32: a slot's record is found
//!   with a shift and never straddles a cache line.
//! - **No branches on the size.** The order is `64 - lzcnt(pages - 1)`, and one comparison
//!   against the pool's largest order replaces the overflow and size checks (the exact error
//!   is worked out only on refusal); a hot slot is indexed by `order & 63` without a bounds
//!   check.
//! - **Inlined across crates.** The entry points and the steps under them are
//!   `#[inline(always)]`, so dmad (another crate) compiles the path into its request handler;
//!   called out of line, results returned through memory stalled on store forwarding.
//!
//! Still checked on every pair: the device's pool, the request's shape, the owner quota, the
//! device quota, room in the buffer table, the handle's pool, slot, generation, state and
//! owner, and mappings (a mapped buffer is deferred, not freed). Still exact at every
//! moment, as every reader sees them: free pages, the high-water mark, live buffers per
//! pool and per owner, charges per owner.
//!
//! # Metadata budget
//!
//! Counted against the 2-bits-per-page budget is everything sized by the page count: per
//! 64-page chunk, 64 page bits, 6 run bits, under 2 buddy bits, about 1.2 summary bits, and
//! a 32-bit head of the chunk's buffer list (for release by address). That is **1.63 bits
//! per page** for a 4 GiB pool (208 KiB; 1.13 bits for the free space alone) and at most
//! 1.71 for any pool of 16 MiB or more; tiny pools add a few words of constant overhead.
//! Not counted, because it is sized by the number of buffers rather than pages, is the
//! buffer table: 32 bytes per entry, `buffer_capacity` entries per pool (default
//! `min(pages, 4096)`; at most one buffer can start per page), plus the registry's owner
//! table. See [`Pool::metadata`].
//!
//! # Linux counterparts
//!
//! | here | Linux |
//! | --- | --- |
//! | [`PoolRegistry::add_reserved_region`] | `reserved-memory` / `rmem_dma_setup` |
//! | [`PoolRegistry::declare`] | `dma_declare_coherent_memory` (`dma_init_coherent_memory`) |
//! | [`PoolRegistry::alloc`] | `dma_alloc_from_dev_coherent` → `bitmap_find_free_region` |
//! | [`PoolRegistry::release`], [`release_address`](PoolRegistry::release_address) | `dma_release_from_dev_coherent` → `bitmap_release_region` |
//! | [`PoolRegistry::check_map`] | `dma_mmap_from_dev_coherent`'s range check (done without overflow) |
//! | [`PoolRegistry::retire`] | `dma_release_coherent_memory` (refused while in use) |
//! | [`BufferHandle`] generations, owner checks, start-of-buffer checks | `CONFIG_DMA_API_DEBUG` (`check_unmap`: freeing unknown, foreign or partial memory) |
//! | [`PoolRegistry::release_all`], quotas, [`PoolStats`] | none: a microkernel server's duties |
//!
//! Linux's search tries aligned positions from the start of the bitmap, checking each, so
//! its cost grows with the pool and its fragmentation; `cargo bench -p dma-pool` measures it
//! against this crate in the same process, both the whole registry path (`pool_ns`, which
//! also does the handle, owner and quota bookkeeping Linux does only under
//! `CONFIG_DMA_API_DEBUG`) and the free-space allocator alone (`core_ns`, the same work as
//! the bitmap). On an empty 16 MiB pool (orders 0..=8 at random) one registry pair executes
//! about 173 instructions and 26 branches with almost no mispredicted one, the bitmap pair
//! about 170 instructions and 17 branches of which 0.8 mispredict (valgrind's counts,
//! callgrind and cachegrind's branch simulator); on the development machine the registry
//! pair is about 8% faster (8.3 ns against 9.0 ns), and the README has the measured rows.
//! On fragmented pools the bitmap's search dominates.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod blocks;
mod buffers;
mod cache;
mod declaration;
mod error;
mod ids;
mod outcome;
mod owners;
mod page_allocator;
pub mod page_map;
mod poison;
mod pool;
mod registry;
mod request;
mod space;
mod stats;
pub mod streaming;
mod summary;
mod zeroer;

pub use cache::CacheType;
pub use declaration::{PoolDeclaration, ReservedRegion, DEFAULT_BUFFER_CAPACITY};
pub use error::PoolError;
pub use ids::{BufferHandle, MappingToken, OwnerId, PoolId};
pub use outcome::{Allocation, BufferInfo, MapRange, Release, ReleaseReport, Unmapped};
pub use owners::DEFAULT_OWNER_CAPACITY;
pub use page_allocator::PageAllocator;
pub use page_map::PageState;
pub use poison::{
    check_and_zero_words, first_unpoisoned, FreedRange, PoisonStats, PENDING_CAPACITY, POISON,
};
pub use pool::Pool;
pub use registry::{PoolRegistry, MAX_POOL_PAGES};
pub use request::AllocConstraints;
pub use stats::{FreeExtent, MetadataUsage, OwnerUsage, PoolStats};
pub use zeroer::Zeroer;

/// Bytes in a page.
pub const PAGE_SIZE: u64 = 4096;

/// log2 of [`PAGE_SIZE`].
pub const PAGE_SHIFT: u32 = 12;
