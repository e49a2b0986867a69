//! `virtio-blk`: coherent's virtio block driver, a user process serving `disk:`.
//!
//! Usage: `virtio-blk [--device NAME] [--scheme NAME] [--crash-after N]` (device
//! `virtio-blk0` and scheme `disk` by default;
//! `--crash-after N` is for tests: the driver panics in the middle of its `N`th transfer).
//!
//! # Start-up
//!
//! 1. read `device:NAME` (the kernel's description: `kind virtio-mmio|virtio-pci`,
//!    `region PHYSICAL SIZE`, `pci BUS DEVICE FUNCTION`, `config PHYSICAL`);
//! 2. build the transport: virtio-mmio on the mapped window (aarch64 `virt`), or virtio-pci
//!    (x86_64 `q35`, modern virtio only) through the function's configuration page;
//! 3. `VirtIOBlk::new` resets and initialises the device, allocating its ring from the pool;
//! 4. register `:disk` and serve.
//!
//! Every DMA buffer — the ring, and a bounce buffer for each request header, data block and
//! status byte — comes from the device's pool through dmad (`dma:/NAME/alloc`); the device
//! never sees any other memory of the driver. See `buffers.rs`.
//!
//! # The `disk:` scheme
//!
//! | request | answer |
//! | --- | --- |
//! | open `disk:` or `disk:/OFFSET` | a handle positioned at byte `OFFSET` (decimal; a multiple of 512, at most the size) |
//! | open `disk:/size` | a text handle: `size BYTES\n` |
//! | read(handle, buffer) | reads at the position, advances it; the length must be a multiple of 512; at most 4096 bytes move per call; 0 at the end of the disk |
//! | write(handle, bytes) | writes at the position, advances it; same rules; `ENOSPC` at the end, `EROFS` on a read-only device |
//! | call(handle, 8 bytes) | seek: the payload is the new position (little-endian `u64`, a multiple of 512, at most the size); the reply is the same 8 bytes |
//! | close | a handle that wrote is flushed (`VIRTIO_BLK_T_FLUSH`, when offered) |
//!
//! Errors: `EINVAL` unaligned or out-of-range offset/length or bad seek, `ENOENT` unknown
//! path, `EBADF` unknown handle or a write to `disk:/size`, `EIO` the device failed,
//! `ENODEV` for `fmap`. The definitions live in the `disk-api` crate. `fstat` is answered by
//! the kernel for user-scheme handles (size 0), so the size is read from `disk:/size`.
//!
//! # Interrupts
//!
//! User processes cannot take interrupts on coherent yet, so the driver completes each
//! request by polling the used ring (`VirtIOBlk`'s blocking calls) while the client waits.
//! This is the fallback a driver keeps even when interrupts arrive; the device's
//! interrupts stay disabled.
//!
//! # Gaps
//!
//! - One request in flight at a time; no request merging.
//! - A driver that dies does not reset its device: the device may complete a request into
//!   pages dmad has already taken back. Stopping the device when its driver dies (or an
//!   IOMMU) is the kernel's part and does not exist yet; the next driver resets the device.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

extern crate alloc;

mod buffers;
mod config_page;
mod hal;
mod server;
mod transport;

use driver_kit::options::{run_driver, Options};
use driver_kit::registers;
use driver_kit::server::{BlockDevice, DiskServer};

use log::info;
use userlib::sys::{self, flag::O_RDWR};
use userlib::Args;
use virtio_drivers::device::blk::VirtIOBlk;

userlib::entry!(run);

/// On the host the program only builds (so `cargo build` of the workspace links); it runs
/// on coherent.
#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("virtio-blk runs only on coherent");
    std::process::exit(1);
}

fn run(args: Args) -> i32 {
    run_driver(
        "virtio-blk",
        args.skip(1),
        ("virtio-blk0", disk_api::SCHEME),
        start,
    )
}

fn start(options: &Options) -> Result<i32, alloc::string::String> {
    let device = options.device.as_str();
    let registers = registers::Registers::open(device)
        .map_err(|error| alloc::format!("cannot read device:{device}: {error}"))?;
    hal::install(hal::Devices {
        buffers: buffers::Buffers::new(device),
        registers,
    });
    let transport = transport::open()?;
    let block = VirtIOBlk::<hal::PoolHal, transport::Transport>::new(transport)
        .map_err(|error| alloc::format!("cannot start the block device: {error}"))?;
    let mut disk = DiskServer::new(server::Disk::new(block, options.crash_after));
    let scheme = options.scheme.as_str();
    let socket = sys::open(&alloc::format!(":{scheme}"), O_RDWR)
        .map_err(|error| alloc::format!("cannot register {scheme}: ({error})"))?;
    info!(
        "{device}: {} MiB{}, serving disk: (polling; {} DMA buffers from the pool)",
        disk.device().capacity() >> 20,
        if disk.device().read_only() {
            ", read-only"
        } else {
            ""
        },
        hal::with(|devices| devices.buffers.held())
    );
    Ok(disk.serve(socket, scheme))
}
