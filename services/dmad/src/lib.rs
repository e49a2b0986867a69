//! dmad's request handling: the `dma:` scheme as a pure state machine over `dma-pool`.
//!
//! The program (`main.rs`) only moves bytes: `userlib::server::serve` reads a request
//! from the scheme socket, hands it to [`Server::handle`] and writes the [`Reply`] back. Everything with a decision
//! in it lives here and is tested on the host:
//!
//! - [`Request`]/[`Reply`]: an `Sqe` plus payload in (`userlib::server::Request`), a result
//!   plus payload out;
//! - [`Server`]: handles per (caller, handle number), grants and quotas from the image
//!   manifest ([`Grants`]), the pool registry, mappings, and the text tables;
//! - [`MemoryPoolLine`] and [`Regions`]: the kernel's `memory:pools` lines and where dmad
//!   mapped each region, so a physical address becomes an address in dmad's own space;
//! - [`Confinement`]: the kernel's IOMMU domains, told of each buffer a device gains or loses
//!   (map on allocation, unmap before release; a failed unmap quarantines the buffer);
//! - [`share`]: buffers shared between processes and devices — a `call` of `export` on a
//!   buffer descriptor gives a single-use token, `dma:/DEV/import?token=T` (or
//!   `dma:/import?token=T`, CPU only) opens the same pages for another process and maps them
//!   into DEV's IOMMU domain; the pages live until the last holder and mapping are gone;
//! - [`Callers`]: what a caller may do, from the kernel (the rights it was spawned with),
//!   asked while its request is pending; never from a name. Also whether a device is quiet
//!   ([`DeviceState`]): a buffer released while its device's last quiesce is unconfirmed is
//!   quarantined, not reused.
//!
//! # Releasing a buffer
//!
//! This is the one place the order is written down (the kernel crate's doc and the
//! `quiesce` and `confine` modules refer here). When a buffer is closed, or its owner dies:
//!
//! 1. **the device is quiet** if its holder died or closed it: the kernel quiesced it (bus
//!    mastering off / transport reset, read back) at the holder's exit *before* closing the
//!    holder's descriptors, so this step is done before dmad hears of the `Close`;
//! 2. **unmap**: dmad asks the kernel (`iommu:DEVICE`, [`Confinement::unmap`]) to take the
//!    buffer out of the device's IOMMU domain; the kernel removes the entries, invalidates
//!    the IOTLB and waits for completion before it answers (nothing to do without an IOMMU);
//! 3. **check**: dmad asks the kernel for the device's quiesce state ([`DeviceState`]);
//! 4. **pages back to the pool, or quarantine**: the buffer is released — its pages return
//!    now, or with its last `Munmap` — unless the unmap failed, or the device's last quiesce
//!    was not confirmed and the owner is the holder whose hold ended with it. Then it is
//!    quarantined: one mechanism for both reasons (`PoolRegistry::quarantine`: never handed
//!    out, counted as `quarantined-pages` in `DEV/stats`). A quiesce quarantine is lifted
//!    when a later request finds a later quiesce confirmed (the next holder's open retries
//!    it); an unmap quarantine never is, and it keeps its pool's whole quarantine held.
//! 5. **poison** (debug mode, on unless dmad runs with `--debug=off`): pages that returned
//!    to the pool are filled with `dma_pool::POISON` at the end of the request, and checked
//!    word by word before they are zeroed for their next buffer; a difference is a write
//!    after free, logged with the buffer's last owner and counted in `DEV/stats`. A buffer
//!    the kernel closed for an exiting client is counted as leaked (`leak report`). See
//!    `server/debug.rs`.
//!
//! # Decisions
//!
//! - Checks run syntax first (`EINVAL`), then the device (`ENOENT`), then the grant
//!   (`EACCES`), then the pool (`EINVAL` for a size beyond the pool, `EDQUOT`, `ENOMEM`).
//! - A `memory:pools` region serving several devices is split into equal page-aligned
//!   parts, one pool per device (a `dma-pool` pool serves exactly one device).
//! - `dma:/declare` and `dma:/DEV/release-pool` do their work at open; the descriptor they
//!   return reads as empty. Only a process holding the `declare-pools` right (init) may open them.
//! - A buffer descriptor reads as its [`DmaBufferInfo`](dma_api::DmaBufferInfo) on every
//!   read; text descriptors (`dma:/`, `DEV/stats`) are a snapshot taken at open, read in
//!   order until a read returns 0.
//! - A `call` whose payload starts with `export` exports the buffer ([`share`]); any other
//!   `call` reads the descriptor like a read.
//! - Writes are refused with `EINVAL`; opcodes the scheme does not serve with `ENOSYS`.
//! - Everything dmad keeps is bounded ([`Limits`]): per process at most 256 open handles
//!   (`EMFILE`) and 256 live mappings (`ENOMEM`); in all at most 4096 handles (`ENFILE`),
//!   8192 mappings (`ENOMEM`) and 256 client records (`EAGAIN`). A request over a limit
//!   changes nothing; an open is refused for lack of room before its path is read. Handles and mappings are keyed by their owner, so every lookup is
//!   logarithmic.
//! - A mapping is counted from dmad's `MmapPrep` answer until the kernel's `Munmap`; the
//!   kernel sends that `Munmap` also when it cannot complete the client's mapping, so a
//!   failed `fmap` leaves no count behind.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

mod confine;
mod grants;
mod memory;
mod quiesce;
mod refusal;
mod request;
mod server;
pub mod share;
mod tables;

pub use confine::{Confinement, DeviceMapping, Unconfined};
pub use grants::{Callers, Grant, Grants};
pub use memory::{MemoryPoolLine, PoolMemory, Region, Regions};
pub use quiesce::{DeviceState, Reclaim};
pub use refusal::Refusal;
pub use request::{Reply, Request};
pub use server::limits::Limits;
pub use server::Server;

#[cfg(test)]
mod tests;
