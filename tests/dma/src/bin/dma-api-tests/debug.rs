//! dmad's debug mode from the outside: poison catches a write after free, and a driver
//! that exits holding buffers gets a leak report.
//!
//! **Who writes after free.** This machine has an IOMMU, and dmad unmaps a buffer from its
//! device's domain before the pages go back to the pool (the `iommu` suite shows a device's
//! write there is blocked), so no device here *can* write a freed buffer. The culprit the
//! poison exists for is a device without that protection, which writes physical memory
//! directly; this program run again as `--scribble ADDRESS` (manifest section
//! `dma-scribbler`, allowed `memory:`) plays it through `memory:pool/NAME`, which reaches a
//! pool's physical pages exactly as such a device would, and writes one word into the
//! buffer the driver freed. The next allocation of those pages
//! must report it (counted in `DEV/stats`, with the buffer's last owner) and still come back
//! zeroed.

use alloc::format;
use alloc::string::String;
use core::time::Duration;
use dma_pool::POISON;
use dma_tests::buffer::{map_raw, Buffer};
use dma_tests::stats;
use dma_tests::text::{number_of, read_text, value_of};
use process_tests::check::{errno_name, Outcome};
use process_tests::child;
use process_tests::ensure;
use userlib::sys::{self, flag::O_RDWR, Ending};
use userlib::time;

/// The pool the poison test uses: this suite's own (nobody else allocates from it).
const POOL_DEVICE: &str = "dma-api0";
/// The buffer: two pages.
const BYTES: usize = 8192;
/// Where the "device" writes: the second page, word 5.
const SCRIBBLE_OFFSET: u64 = 4096 + 40;
/// What it writes.
const SCRIBBLE: u64 = 0x5c21_661e_0bad_cafe;
/// Buffers `dma-holder` leaks: one, two and one page (it alternates).
const LEAKED_BUFFERS: u64 = 3;
const LEAKED_BYTES: u64 = 4 * 4096;

fn stats_text(device: &str) -> Result<String, String> {
    let path = stats::path(device);
    read_text(&path).map_err(|error| format!("read {path}: {}", errno_name(error.errno)))
}

fn stat(device: &str, key: &str) -> Result<u64, String> {
    let text = stats_text(device)?;
    number_of(&text, key).ok_or_else(|| format!("{device}'s stats lack {key}: {text:?}"))
}

/// Polls until `ready` holds for `device`'s stats (releases reach dmad one-way).
fn wait_for(device: &str, what: &str, ready: impl Fn(&str) -> bool) -> Result<String, String> {
    let start = time::monotonic().unwrap_or_default();
    loop {
        let text = stats_text(device)?;
        if ready(&text) {
            return Ok(text);
        }
        let elapsed = time::monotonic().unwrap_or_default().saturating_sub(start);
        if elapsed >= stats::SETTLE_TIME {
            return Err(format!(
                "{what}: {device}'s stats never showed it (waited {elapsed:?}): {text:?}"
            ));
        }
        let _ = time::sleep(Duration::from_millis(5));
    }
}

/// Allocates, writes and frees a buffer of [`POOL_DEVICE`]; returns its device address
/// once dmad has taken it back (and so poisoned it).
fn allocate_write_free() -> Result<u64, String> {
    let live = stat(POOL_DEVICE, stats::LIVE_BUFFERS)?;
    let buffer = Buffer::allocate(POOL_DEVICE, BYTES)
        .map_err(|error| format!("alloc: {}", errno_name(error.errno)))?;
    let address = buffer.info().device_address;
    let mapping = buffer
        .map_all()
        .map_err(|error| format!("fmap: {}", errno_name(error.errno)))?;
    mapping.fill(|word| word as u64 ^ 0x1111);
    mapping
        .unmap()
        .map_err(|error| format!("funmap: {}", errno_name(error.errno)))?;
    buffer
        .close()
        .map_err(|error| format!("close: {}", errno_name(error.errno)))?;
    wait_for(POOL_DEVICE, "the freed buffer", |text| {
        number_of(text, stats::LIVE_BUFFERS) == Some(live)
    })?;
    Ok(address)
}

/// The `memory:pools` line of the region serving `device`: (name, physical, device base).
fn region_of(device: &str) -> Result<(String, u64, u64), String> {
    let text = read_text("memory:pools")
        .map_err(|error| format!("read memory:pools: {}", errno_name(error.errno)))?;
    text.lines()
        .find_map(|line| {
            let words: alloc::vec::Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["pool", name, phys, base, _size, _map, devices, ..]
                    if devices.split(',').any(|served| served == device) =>
                {
                    let number = dma_tests::text::number;
                    Some((String::from(*name), number(phys)?, number(base)?))
                }
                _ => None,
            }
        })
        .ok_or_else(|| format!("memory:pools names no region for {device}: {text:?}"))
}

/// The argument that makes this program the scribbler.
pub const SCRIBBLE_ARG: &str = "--scribble";

/// `--scribble DEVICE_ADDRESS`: writes after free (see [`write_after_free`]); exits 0 when
/// it did, 1 (saying why) when not.
pub fn scribbler(address: Option<&str>) -> i32 {
    let Some(address) = address.and_then(dma_tests::text::number) else {
        userlib::println!("usage: dma-api-tests --scribble DEVICE_ADDRESS");
        return 2;
    };
    match write_after_free(address) {
        Ok(()) => 0,
        Err(reason) => {
            userlib::println!("{reason}");
            1
        }
    }
}

/// Writes [`SCRIBBLE`] into the freed pages at `device_address` through the pool's physical
/// memory, after checking they hold the poison.
fn write_after_free(device_address: u64) -> Outcome {
    let (name, _phys, device_base) = region_of(POOL_DEVICE)?;
    let path = format!("memory:pool/{name}");
    let fd =
        sys::open(&path, O_RDWR).map_err(|e| format!("open {path}: {}", errno_name(e.errno)))?;
    let offset = (device_address - device_base) as usize;
    let mapped = map_raw(fd, offset, BYTES);
    let _ = sys::close(fd);
    let address = mapped.map_err(|e| format!("fmap {path}: {}", errno_name(e.errno)))?;
    let words = address as *mut u64;
    let mut outcome = Ok(());
    for index in 0..BYTES / 8 {
        // SAFETY: the kernel mapped BYTES bytes of pool memory read-write at `address`.
        let word = unsafe { words.add(index).read_volatile() };
        if word != POISON {
            outcome = Err(format!(
                "freed page word {index} holds {word:#x}, not the poison {POISON:#x}"
            ));
            break;
        }
    }
    if outcome.is_ok() {
        // SAFETY: as above; the offset is inside the mapping.
        unsafe {
            words
                .add(SCRIBBLE_OFFSET as usize / 8)
                .write_volatile(SCRIBBLE)
        };
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
    }
    // SAFETY: nothing refers into the mapping after this.
    let _ = unsafe { sys::funmap(address, BYTES) };
    outcome
}

pub fn poison_detects_a_write_after_free() -> Outcome {
    let text = stats_text(POOL_DEVICE)?;
    ensure!(
        value_of(&text, "poison") == Some("on"),
        "debug mode is not on: {text:?}"
    );
    let violations = stat(POOL_DEVICE, "poison-violations")?;
    let address = allocate_write_free()?;
    // A clean reuse of those (now poisoned) pages: both checked, nothing reported.
    let checked = stat(POOL_DEVICE, "poison-checked-pages")?;
    let again = allocate_write_free()?;
    ensure!(
        again == address,
        "the pool did not reuse the freed pages ({address:#x}, then {again:#x})"
    );
    ensure!(
        stat(POOL_DEVICE, "poison-violations")? == violations,
        "a clean reuse was reported as a write after free"
    );
    let now_checked = stat(POOL_DEVICE, "poison-checked-pages")?;
    ensure!(
        now_checked == checked + 2,
        "the reuse checked {} pages, expected 2",
        now_checked - checked
    );
    let scribbler = child::start_as(
        "dma-scribbler",
        "/bin/dma-api-tests",
        &[SCRIBBLE_ARG, &format!("{address:#x}")],
    )?;
    let ending = child::wait(scribbler)?;
    ensure!(
        ending == Ending::Exited(0),
        "the scribbler ended {ending:?} (it says why above)"
    );
    let buffer = Buffer::allocate(POOL_DEVICE, BYTES)
        .map_err(|error| format!("alloc after the write: {}", errno_name(error.errno)))?;
    ensure!(
        buffer.info().device_address == address,
        "the pool did not hand out the written pages again ({:#x}, expected {address:#x})",
        buffer.info().device_address
    );
    let text = stats_text(POOL_DEVICE)?;
    ensure!(
        number_of(&text, "poison-violations") == Some(violations + 1),
        "dmad did not count the write after free: {text:?}"
    );
    let pid = sys::getpid().map_err(|e| format!("getpid: {}", errno_name(e.errno)))?;
    let expected = format!(
        "poison-last-violation {pid} dma-api-tests {:#x}",
        address + SCRIBBLE_OFFSET
    );
    ensure!(
        text.lines().any(|line| line == expected),
        "dmad did not name the last owner and address: expected {expected:?} in {text:?}"
    );
    let mapping = buffer
        .map_all()
        .map_err(|error| format!("fmap: {}", errno_name(error.errno)))?;
    mapping.expect("the buffer handed out after the write", |_| 0)?;
    Ok(())
}

pub fn leak_report_at_driver_exit() -> Outcome {
    let device = dma_tests::DEVICE;
    let reports = stat(device, "leak-reports")?;
    let pid = child::start_as(
        "dma-holder",
        "/bin/dma-holder",
        &[&format!("{LEAKED_BUFFERS}"), "exit"],
    )?;
    let ending = child::wait(pid)?;
    ensure!(
        ending == Ending::Exited(0),
        "dma-holder ended {ending:?}, expected a clean exit holding its buffers"
    );
    let expected = format!("leak {pid} dma-holder {LEAKED_BUFFERS} {LEAKED_BYTES}");
    let text = wait_for(device, "the leak report", |text| {
        text.lines()
            .any(|line| line.starts_with(&format!("leak {pid} ")))
    })?;
    ensure!(
        text.lines().any(|line| line == expected),
        "expected {expected:?} in {text:?}"
    );
    ensure!(
        number_of(&text, "leak-reports") == Some(reports + 1),
        "leak-reports went from {reports} to {:?}, expected one more",
        number_of(&text, "leak-reports")
    );
    // A process that frees what it allocated is not reported.
    let quiet = child::start_as("dma-holder", "/bin/dma-holder", &["0", "exit"])?;
    ensure!(
        child::wait(quiet)? == Ending::Exited(0),
        "dma-holder 0 failed"
    );
    // Its closes were queued at its exit, before `wait` returned, so dmad has them before
    // this read.
    let text = stats_text(device)?;
    ensure!(
        !text
            .lines()
            .any(|line| line.starts_with(&format!("leak {quiet} "))),
        "a process that held nothing was reported: {text:?}"
    );
    Ok(())
}
