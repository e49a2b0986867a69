//! `nvme`: coherent's NVMe driver, a user process serving the `disk:` interface (as scheme
//! `nvme:`) from namespace 1 of an NVM Express controller on PCI (QEMU `nvme`, on x86_64
//! `q35` and aarch64 `virt`).
//!
//! Usage: `nvme [--device NAME] [--scheme NAME] [--crash-after N]` (device `nvme0`, scheme
//! `nvme` by default; `--crash-after N` is for tests: the driver panics with its `N`th read
//! or write in flight).
//!
//! # Start-up
//!
//! 1. read `device:NAME` (`kind nvme`, `region` BAR0, `pci`, `config`; the kernel has
//!    enabled memory decoding and bus mastering) and map BAR0;
//! 2. reset and enable the controller, identify it and namespace 1, create one I/O queue
//!    pair (`controller.rs`);
//! 3. register `:nvme` and serve the `disk:` interface through `driver_kit::server`.
//!
//! `irq:NAME` is opened before step 2 (QEMU's controller signals only MSI-X vectors enabled
//! when a queue is created).
//!
//! Every queue, the identify page, the PRP list page and the 128 KiB data buffer come from
//! the device's pool through dmad (`dma:/NAME/alloc`); the controller never sees any other
//! memory of the driver. A read's or write's bytes are a streaming mapping
//! (`userlib::dma::StreamMapper`), bounced through pool buffers; the data buffer serves the
//! bulk requests.
//!
//! # The scheme
//!
//! The `disk:` interface of `disk-api` (open `nvme:/OFFSET`, `nvme:/size`, read, write,
//! seek call, `nvme:/status`; at most 4 KiB per read or write, one NVMe command each), plus
//! two calls on a
//! disk handle: `disk_api::Bulk` (up to 256 sectors in one NVMe command, which needs a PRP
//! list; a read answers the data's digest) and `info` (a text: identity, namespace size,
//! completion mode and `buffer NAME DEVICE-ADDRESS BYTES` for every DMA buffer).
//! Errors: `EINVAL` for unaligned or out-of-range requests and malformed calls, `EIO` when
//! the controller fails a command or does not answer, as `disk-api` defines.
//!
//! # Interrupts
//!
//! The driver sleeps until the controller interrupts (`driver_kit::completion`): both
//! completion queues signal vector 0, which is `irq:NAME` — MSI-X table entry 0 (in BAR0)
//! on x86_64, programmed by the kernel; on aarch64 `virt` the function's INTx, a level GIC
//! SPI through the host bridge's `interrupt-map`. While a command is in flight the driver
//! waits on the interrupt and its `nvme:` socket at once (`SYS_WAIT_ANY`), stashing
//! requests that arrive. The completion is consumed and the head doorbell rung before the
//! interrupt is acknowledged, so a level line is deasserted when it is unmasked. Polling
//! the phase bit is the fallback, logged: always when `irq:` cannot be opened, and for one
//! completion whose interrupt did not come within two seconds. `nvme:/status` says which
//! mode runs and counts interrupts, completions, polled completions, stashed requests and
//! inherited interrupts (`disk_api::status`).
//!
//! # Gaps
//!
//! - One command in flight at a time, one I/O queue pair.
//! - A driver that dies leaves the controller running; the next driver's reset (CC.EN = 0,
//!   which the `nvme` suite exercises after killing one mid-I/O) stops it, but until then
//!   the device may still write pages dmad took back (quiescing a dead driver's device is
//!   the kernel's and dmad's part, issue 13).
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

extern crate alloc;

mod bar;
mod controller;
mod disk;
mod queue;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use driver_kit::completion::Completions;
use driver_kit::options::run_driver;
use driver_kit::registers::Registers;
use driver_kit::server::DiskServer;
use driver_kit::TransportKind;
use log::info;
use userlib::sys::{self, flag::O_RDWR};
use userlib::Args;

userlib::entry!(run);

/// On the host the program only builds (so `cargo build` of the workspace links); it runs
/// on coherent.
#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("nvme runs only on coherent");
    std::process::exit(1);
}

fn run(args: Args) -> i32 {
    run_driver("nvme", args.skip(1), ("nvme0", "nvme"), |options| {
        // The process lives as long as its device's name: leak it to borrow it for ever.
        let device: &'static str = Box::leak(options.device.clone().into_boxed_str());
        start(device, &options.scheme, options.crash_after)
    })
}

fn start(device: &'static str, scheme: &str, crash_after: Option<u64>) -> Result<i32, String> {
    let mut registers =
        Registers::open(device).map_err(|error| format!("cannot read device:{device}: {error}"))?;
    let info = registers.info().clone();
    if info.kind != TransportKind::Nvme {
        return Err(format!("device:{device} is not an NVMe controller"));
    }
    let (base, size) = info.regions[0];
    let mapping = registers
        .map(base, size)
        .map_err(|error| format!("cannot map BAR0 at {base:#x}: {error}"))?;
    let size = usize::try_from(size).map_err(|_| "BAR0 too large")?;
    // SAFETY: `mapping` is the kernel's device mapping of the whole BAR0 (`size` bytes,
    // page-aligned), kept for the life of the process in `registers`, used only by `Bar`.
    let bar = unsafe { bar::Bar::new(mapping, size) };
    // Before the controller is enabled: its queues signal only vectors enabled by then.
    let completions = Completions::open(device);
    let controller = controller::Controller::start(device, bar, completions)?;
    let disk = disk::NvmeDisk::new(controller, device, crash_after);
    let socket = sys::open(&format!(":{scheme}"), O_RDWR)
        .map_err(|error| format!("cannot register {scheme}: ({error})"))?;
    let controller = disk.controller();
    let (major, minor, _) = controller.version;
    info!(
        "{device}: {} (serial {}, firmware {}), NVMe {major}.{minor}; namespace 1: {} blocks of {} bytes ({} MiB); 1 I/O queue pair of {} entries",
        controller.identity.model,
        controller.identity.serial,
        controller.identity.firmware,
        controller.namespace.blocks,
        controller.namespace.block_size,
        controller.namespace.bytes() >> 20,
        controller::QUEUE_ENTRIES,
    );
    info!(
        "{device}: serving {scheme}: ({}-driven; queues, PRP list and data buffer from dma:/{device})",
        controller.wait_mode()
    );
    let mut server = DiskServer::new(disk);
    server.watch_faults(device);
    // `registers` keeps BAR0 mapped while the server runs.
    let status = server.serve(socket, scheme);
    drop(registers);
    Ok(status)
}
