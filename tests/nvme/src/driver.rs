//! The NVMe driver under test, and what it says about the controller.

use crate::SCHEME;
use alloc::format;
use alloc::string::String;
use blk_tests::driver_under_test::DriverUnderTest;
use core::sync::atomic::AtomicUsize;
use disk_api::image::DEFAULT_SIZE;
use disk_client::Disk;
use process_tests::check::{errno_name, Outcome};
use process_tests::ensure;

/// The controller, and the device whose pool the driver uses.
pub const DEVICE: &str = "nvme0";

/// The serial number xtask gives the controller.
const SERIAL: &str = "coherent0";

/// The NVMe driver, serving `nvme:` from `nvme0`.
pub static DRIVER: DriverUnderTest = DriverUnderTest {
    section: "nvme",
    program: "/bin/nvme",
    scheme: SCHEME,
    device: DEVICE,
    pid: AtomicUsize::new(0),
};

/// Opens the disk at `offset`.
pub fn open(offset: u64) -> Result<Disk, String> {
    DRIVER.open(offset)
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
    DRIVER.dies_mid_io()
}

/// A fresh driver (resetting the controller the dead one left enabled) starts with the
/// pool empty and serves the image.
pub fn driver_serves_nvme() -> Outcome {
    DRIVER.serves_the_image()
}

/// The driver sleeps until the controller interrupts (`irq:nvme0`: MSI-X on x86_64, INTx on
/// aarch64 behind the SMMU): `nvme:/status` says `mode interrupt` and counts an interrupt
/// per completion.
pub fn driver_runs_interrupt_driven() -> Outcome {
    DRIVER.runs_interrupt_driven()
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
    ensure!(mode == "interrupt", "unexpected completion mode {mode:?}");
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
