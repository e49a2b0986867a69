//! Helpers shared by the `dma` suite's programs: DMA buffers through raw `dma:` requests,
//! dmad's pool statistics, and the kernel's `sys:translate` view of a mapping.
//!
//! The suite checks `dmad` from the outside, the way a driver uses it, with nothing but
//! system calls: `open("dma:/DEV/alloc?size=N")`, `read` of the buffer descriptor,
//! `fmap`/`funmap` and `close` (see ARCHITECTURE.md, "The dma: scheme"). Its programs are
//! installed in the initfs as `/bin/NAME`:
//! - `dma-tests`: the driver the test image's manifest starts; runs every test and prints the
//!   guest test protocol (granted `virtio-blk0` with a quota of [`DRIVER_QUOTA_PAGES`]);
//! - `dma-stranger [borrow FD | alloc DEVICE]`: a program the manifest grants nothing; it
//!   must get `EACCES` from dmad (for `virtio-blk0`, or `DEVICE`), and `EBADF` for a
//!   descriptor number that is only open in its parent;
//! - `platform-tests`: the `platform` suite's driver (bus `dma-ranges`, the default pool);
//! - `dma-holder COUNT exit|crash`: holds `COUNT` buffers, then exits or faults;
//! - `dma-worker ID OPS`: allocates and frees concurrently with other workers, checking that
//!   nobody else writes its buffers;
//! - `dma-hog exhaust|closed-mapped`: exhausts the whole pool (it has no quota);
//! - `hostile-tests`: the `hostile` suite's driver (it may kill dmad); `hostile-attacker
//!   MODE`: the attacker it spawns with no rights, or with the `hostile-client` section's
//!   (the pool's device only) for attacks that need a buffer.
//!
//! The clients are declared in the manifest with `autostart = false`; the driver spawns
//! each with the rights of its section (`spawn_with_rights`), which it may grant because it
//! holds them all itself. Every client exits 0 when all its checks
//! passed, 1 otherwise (with the reason on the console), and [`USAGE_STATUS`] on bad
//! arguments.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

pub mod buffer;
pub mod check;
pub mod iommu;
pub mod pools;
pub mod quiesce;
pub mod share;
pub mod stats;
pub mod text;
pub mod translate;

/// The device whose pool every test uses; both test images declare it.
pub const DEVICE: &str = "virtio-blk0";

/// Pages in that pool: 8 MiB on both images.
pub const POOL_PAGES: u64 = 2048;

/// Bytes in a page.
pub const PAGE_SIZE: usize = 4096;

/// The driver's `quota-pages` in the suite's manifest.
pub const DRIVER_QUOTA_PAGES: u64 = 1024;

/// Exit status of a client given arguments it does not understand.
pub const USAGE_STATUS: i32 = 2;

/// Exit status of a client whose checks failed.
pub const FAILED_STATUS: i32 = 1;

/// Exit status of `dma-stranger` when dmad let it allocate (or gave another error).
pub const NOT_REFUSED_STATUS: i32 = 3;
