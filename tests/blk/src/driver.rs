//! Starting driver instances: one that dies mid-I/O, then the one the other tests use.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use disk_api::image::{read_header, DEFAULT_SIZE};
use disk_client::{wait_for_disk, Disk};
use dma_tests::stats;
use process_tests::check::{errno_name, expect_ending, Outcome};
use process_tests::child;
use process_tests::ensure;
use userlib::sys::error::EIO;
use userlib::sys::{self, Ending};

/// The device whose pool the driver uses.
pub const DEVICE: &str = "virtio-blk0";

/// The driver program.
pub const DRIVER: &str = "/bin/virtio-blk";

/// How long a driver may take to register `disk:` (TCG is slow).
const START_TIME: Duration = Duration::from_secs(20);

/// After how many transfers the crashing driver dies.
const CRASH_AFTER: u64 = 20;

/// The exit status of a Rust panic in a coherent program.
const PANIC_STATUS: i32 = 101;

/// The process id of the driver the later tests use (0: not started).
static DRIVER_PID: AtomicUsize = AtomicUsize::new(0);

/// The running driver's process id, if one was started.
pub fn driver_pid() -> Option<usize> {
    match DRIVER_PID.load(Ordering::Relaxed) {
        0 => None,
        pid => Some(pid),
    }
}

/// A driver dying mid-I/O gives every buffer back to the pool.
pub fn dying_driver_returns_its_buffers() -> Outcome {
    let before = stats::read(DEVICE)?;
    ensure!(
        before.live_buffers == 0,
        "the pool has {} live buffers before any driver ran",
        before.live_buffers
    );
    crash_driver(CRASH_AFTER, || {
        let running = stats::read(DEVICE)?;
        ensure!(
            running.live_buffers > 0,
            "the driver runs but the pool shows {running}"
        );
        Ok(())
    })?;
    stats::settle(DEVICE, before, "after the driver died")
}

/// Starts `virtio-blk --crash-after AFTER`, runs `while_running` once it serves `disk:`,
/// then reads until the driver dies in the middle of a transfer (the read fails with
/// `EIO`) and waits for its panic exit. Returns the driver's process id.
pub fn crash_driver(after: u64, while_running: impl FnOnce() -> Outcome) -> Result<usize, String> {
    let count = format!("{after}");
    let pid = child::start_as("virtio-blk", DRIVER, &["--crash-after", &count])?;
    if let Err(error) = wait_for_disk(START_TIME) {
        return Err(format!(
            "the crashing driver never served disk: ({})",
            errno_name(error.errno)
        ));
    }
    while_running()?;
    let disk = Disk::open(0).map_err(|error| format!("open disk: {}", errno_name(error.errno)))?;
    let mut sector = vec![0u8; 512];
    let mut served = 0;
    let failure = loop {
        match disk.read_at(0, &mut sector) {
            Ok(()) => served += 1,
            Err(error) => break error,
        }
        ensure!(
            served <= after,
            "the driver served {served} reads without dying"
        );
    };
    ensure!(
        failure.errno == EIO,
        "the read the driver died in failed with {}, expected EIO",
        errno_name(failure.errno)
    );
    drop(disk);
    expect_ending(
        "the crashing driver",
        child::wait(pid)?,
        Ending::Exited(PANIC_STATUS),
    )?;
    Ok(pid)
}

/// A fresh driver serves `disk:`: its size and header are the image's.
pub fn driver_serves_disk() -> Outcome {
    let pid = child::start_as("virtio-blk", DRIVER, &[])?;
    DRIVER_PID.store(pid, Ordering::Relaxed);
    let size = wait_for_disk(START_TIME).map_err(|error| {
        format!(
            "the driver never served disk: ({})",
            errno_name(error.errno)
        )
    })?;
    ensure!(
        size == DEFAULT_SIZE,
        "disk:/size says {size} bytes, expected {DEFAULT_SIZE}"
    );
    let disk = Disk::open(0).map_err(|error| format!("open disk: {}", errno_name(error.errno)))?;
    let mut header = vec![0u8; 512];
    disk.read_at(0, &mut header)
        .map_err(|error| format!("read sector 0: {}", errno_name(error.errno)))?;
    ensure!(
        read_header(&header) == Some(size),
        "sector 0 is not the header `coherent-disk v1 {size}`"
    );
    Ok(())
}

/// The driver sleeps until its device interrupts: `disk:/status` says `mode interrupt`, and
/// reads are completed by interrupts, none by the polling fallback.
pub fn driver_runs_interrupt_driven() -> Outcome {
    let status = || {
        sys::read_file("disk:/status")
            .ok()
            .and_then(|bytes| alloc::string::String::from_utf8(bytes).ok())
            .ok_or_else(|| alloc::string::String::from("cannot read disk:/status"))
    };
    let before = status()?;
    ensure!(
        disk_api::status::value(&before, "mode") == Some("interrupt"),
        "the driver does not run interrupt-driven:\n{before}"
    );
    let disk = Disk::open(0).map_err(|error| format!("open disk: {}", errno_name(error.errno)))?;
    let mut sector = vec![0u8; 512];
    for index in 1..=10 {
        disk.read_at(index * 512, &mut sector)
            .map_err(|error| format!("read sector {index}: {}", errno_name(error.errno)))?;
    }
    let after = status()?;
    let delta = |key| {
        disk_api::status::number(&after, key).unwrap_or(0)
            - disk_api::status::number(&before, key).unwrap_or(0)
    };
    ensure!(
        delta("interrupts") >= 10 && delta("polled") == 0,
        "10 reads took {} interrupts and {} polled completions",
        delta("interrupts"),
        delta("polled")
    );
    Ok(())
}
