//! Starting the driver, and what it says about the controller.

use crate::SCHEME;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use disk_api::image::{read_header, DEFAULT_SIZE};
use disk_client::{wait_for_scheme, Disk};
use dma_tests::stats;
use process_tests::check::{errno_name, expect_ending, Outcome};
use process_tests::child;
use process_tests::ensure;
use userlib::sys::error::EIO;
use userlib::sys::Ending;

/// The controller, and the device whose pool the driver uses.
pub const DEVICE: &str = "nvme0";

/// The driver program.
const DRIVER: &str = "/bin/nvme";

/// How long the driver may take to register `nvme:` (TCG is slow).
const START_TIME: Duration = Duration::from_secs(20);

/// The serial number xtask gives the controller.
const SERIAL: &str = "coherent0";

/// After how many transfers the crashing driver dies.
const CRASH_AFTER: u64 = 20;

/// The exit status of a Rust panic in a coherent program.
const PANIC_STATUS: i32 = 101;

/// The process id of the running driver (0: not started).
static DRIVER_PID: AtomicUsize = AtomicUsize::new(0);

/// The running driver's process id, if one was started.
pub fn driver_pid() -> Option<usize> {
    match DRIVER_PID.load(Ordering::Relaxed) {
        0 => None,
        pid => Some(pid),
    }
}

/// Opens the disk at `offset`.
pub fn open(offset: u64) -> Result<Disk, String> {
    Disk::open_on(SCHEME, offset)
        .map_err(|error| format!("open {SCHEME}:/{offset}: {}", errno_name(error.errno)))
}

/// The driver's `info` text.
pub fn info() -> Result<String, String> {
    let disk = open(0)?;
    let bytes = disk
        .call(b"info", 4096)
        .map_err(|error| format!("the info call: {}", errno_name(error.errno)))?;
    String::from_utf8(bytes).map_err(|_| "the info text is not UTF-8".into())
}

/// A driver that dies with a read in flight gives every buffer back to the pool (the next
/// driver then resets the controller it left enabled).
pub fn dying_driver_returns_its_buffers() -> Outcome {
    let before = stats::read(DEVICE)?;
    ensure!(
        before.live_buffers == 0,
        "the pool has {} live buffers before any driver ran",
        before.live_buffers
    );
    let count = format!("{CRASH_AFTER}");
    let pid = child::start_as("nvme", DRIVER, &["--crash-after", &count])?;
    wait_for_scheme(SCHEME, START_TIME).map_err(|error| {
        format!(
            "the crashing driver never served {SCHEME}: ({})",
            errno_name(error.errno)
        )
    })?;
    let running = stats::read(DEVICE)?;
    ensure!(
        running.live_buffers > 0,
        "the driver runs but the pool shows {running}"
    );
    let disk = open(0)?;
    let mut block = vec![0u8; 512];
    let mut served = 0;
    let failure = loop {
        match disk.read_at(0, &mut block) {
            Ok(()) => served += 1,
            Err(error) => break error,
        }
        ensure!(
            served <= CRASH_AFTER,
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
    stats::settle(DEVICE, before, "after the driver died")
}

/// A fresh driver (resetting the controller the dead one left enabled) starts with the
/// pool empty and serves the image.
pub fn driver_serves_nvme() -> Outcome {
    let before = stats::read(DEVICE)?;
    ensure!(
        before.live_buffers == 0,
        "the pool has {} live buffers before the driver ran",
        before.live_buffers
    );
    let pid = child::start_as("nvme", DRIVER, &[])?;
    DRIVER_PID.store(pid, Ordering::Relaxed);
    let size = wait_for_scheme(SCHEME, START_TIME).map_err(|error| {
        format!(
            "the driver never served {SCHEME}: ({})",
            errno_name(error.errno)
        )
    })?;
    ensure!(
        size == DEFAULT_SIZE,
        "{SCHEME}:/size says {size} bytes, expected {DEFAULT_SIZE}"
    );
    let disk = open(0)?;
    let mut header = vec![0u8; 512];
    disk.read_at(0, &mut header)
        .map_err(|error| format!("read block 0: {}", errno_name(error.errno)))?;
    ensure!(
        read_header(&header) == Some(size),
        "block 0 is not the header `coherent-disk v1 {size}`"
    );
    Ok(())
}

/// Identify data agrees with the image and QEMU's controller.
pub fn identify_is_sane() -> Outcome {
    let text = info()?;
    let field = |key: &str| line_value(&text, key).ok_or(format!("info lacks `{key}`:\n{text}"));
    let model = field("model")?;
    ensure!(
        model.contains("NVMe"),
        "model {model:?} is not QEMU's NVMe controller"
    );
    ensure!(
        field("serial")? == SERIAL,
        "serial is not {SERIAL}:\n{text}"
    );
    let blocks: u64 = field("namespace-blocks")?
        .parse()
        .map_err(|_| "bad block count")?;
    let block_size: u64 = field("block-size")?.parse().map_err(|_| "bad block size")?;
    ensure!(
        blocks * block_size == DEFAULT_SIZE,
        "namespace 1 is {blocks} blocks of {block_size} bytes, the image {DEFAULT_SIZE} bytes"
    );
    let mode = field("completions")?;
    ensure!(
        mode.starts_with("polling"),
        "unexpected completion mode {mode:?}"
    );
    let version = field("version")?;
    ensure!(version.starts_with("1."), "NVMe version {version}");
    Ok(())
}

/// The rest of the line `KEY REST` in `text`.
pub fn line_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        line.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(' '))
            .map(str::trim)
    })
}
