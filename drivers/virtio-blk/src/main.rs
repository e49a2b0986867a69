//! `virtio-blk`: coherent's virtio block driver, a user process serving `disk:`.
//!
//! Usage: `virtio-blk [--device NAME] [--scheme NAME] [--crash-after N]
//! [--exit-unacknowledged]` (device `virtio-blk0` and scheme `disk` by default). The last two
//! are for tests: with `--crash-after N` the driver panics in the middle of its `N`th
//! transfer; with `--exit-unacknowledged` it reads one sector, takes its interrupt and exits
//! with status 3 without acknowledging it.
//!
//! # Start-up
//!
//! 1. read `device:NAME` (the kernel's description: `kind virtio-mmio|virtio-pci`,
//!    `region PHYSICAL SIZE`, `pci BUS DEVICE FUNCTION`, `config PHYSICAL`);
//! 2. build the transport: virtio-mmio on the mapped window (aarch64 `virt`), or virtio-pci
//!    (x86_64 `q35`, modern virtio only) through the function's configuration page;
//! 3. `VirtIOBlk::new` resets and initialises the device, allocating its ring from the pool;
//! 4. open `irq:NAME` (virtio-pci: route the queue to MSI-X entry 0, which the kernel
//!    programmed), take an interrupt a dead predecessor left unacknowledged, enable the
//!    device's interrupts — or fall back to polling, saying so in the log;
//! 5. register `:disk` and serve.
//!
//! Every DMA buffer — the ring, and a bounce buffer for each request header, data block and
//! status byte — comes from the device's pool through dmad (`dma:/NAME/alloc`); the device
//! never sees any other memory of the driver. Requests are streaming mappings
//! (`userlib::dma::StreamMapper`), which bounce and copy back. See `buffers.rs`.
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
//! The driver sleeps until its device interrupts (`completion`, over the wait shared with the
//! NVMe driver in `driver_kit::completion`): it waits on `irq:NAME` and
//! its `disk:` socket at once (`SYS_WAIT_ANY`), stashing requests that arrive while a
//! transfer is in flight. Polling the used ring is the fallback: always when `irq:` cannot be
//! opened, and for one completion whose interrupt did not come within two seconds; the log
//! names either. `disk:/status` says which mode runs and counts interrupts, completions,
//! polled completions, stashed requests and inherited interrupts. `flush` (on closing a
//! handle that wrote) is still polled, with the device's interrupts off.
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
mod completion;
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

/// The exit status of `--exit-unacknowledged`.
const EXITED_UNACKNOWLEDGED: i32 = 3;

fn start(options: &Options) -> Result<i32, alloc::string::String> {
    let device = options.device.as_str();
    let registers = registers::Registers::open(device)
        .map_err(|error| alloc::format!("cannot read device:{device}: {error}"))?;
    hal::install(hal::Devices {
        buffers: buffers::Buffers::new(device),
        registers,
    });
    let opened = transport::open()?;
    let mut block = VirtIOBlk::<hal::PoolHal, transport::Transport>::new(opened.transport)
        .map_err(|error| alloc::format!("cannot start the block device: {error}"))?;
    let completions = completion::start(device, &mut block, opened.common_configuration);
    if options.exit_unacknowledged {
        let count = completion::take_without_acknowledging(&completions, &mut block);
        info!("--exit-unacknowledged: exiting with interrupt {count:?} unacknowledged");
        return Ok(EXITED_UNACKNOWLEDGED);
    }
    let mut disk = DiskServer::new(server::Disk::new(block, completions, options.crash_after));
    disk.watch_faults(device);
    let scheme = options.scheme.as_str();
    let socket = sys::open(&alloc::format!(":{scheme}"), O_RDWR)
        .map_err(|error| alloc::format!("cannot register {scheme}: ({error})"))?;
    info!(
        "{device}: {} MiB{}, serving {scheme}: ({}-driven; {} DMA buffers from the pool)",
        disk.device().capacity() >> 20,
        if disk.device().read_only() {
            ", read-only"
        } else {
            ""
        },
        disk.device().mode(),
        hal::with(|devices| devices.buffers.held())
    );
    Ok(disk.serve(socket, scheme))
}
