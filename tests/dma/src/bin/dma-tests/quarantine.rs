//! Quarantine: buffers of a dead device holder whose device could not be confirmed quiet are
//! never handed out again until a later quiesce of the device is confirmed.
//!
//! The test kernel's switch (`sys:quiesce-fail/DEVICE`) makes the kernel report the device's
//! quiesce as failed. A `dma-holder` that opened `device:DEVICE` exits holding buffers: the
//! kernel's quiesce at its exit "fails", so dmad quarantines them — counted in the pool's
//! stats (and shown by `dmastat`), not free, not handed out. While the switch is on, a new
//! holder's open is refused (`EIO`: the kernel retries the quiesce first). With the switch
//! off, this program's own open of the device retries the quiesce, which is confirmed, and
//! dmad's next request lifts the quarantine: the pool is whole again.

use alloc::format;
use core::time::Duration;
use dma_tests::buffer::Buffer;
use dma_tests::text::read_text;
use dma_tests::{quiesce, stats, DEVICE, PAGE_SIZE};
use process_tests::check::{errno_name, expect_ending, expect_errno, Outcome};
use process_tests::{child, ensure};
use userlib::sys::error::EIO;
use userlib::sys::{self, flag::O_RDONLY, Ending};
use userlib::time;

/// Buffers the holder keeps: 1, 2, 1, 2, 1, 2 pages.
const BUFFERS: &str = "6";
/// Pages in them.
const PAGES: u64 = 9;

/// Sets the kernel's test switch for the device's quiesce.
fn switch(fail: bool) -> Outcome {
    let name = if fail {
        "quiesce-fail"
    } else {
        "quiesce-works"
    };
    read_text(&format!("sys:{name}/{DEVICE}"))
        .map(|_| ())
        .map_err(|error| format!("open sys:{name}/{DEVICE}: {}", errno_name(error.errno)))
}

/// Polls `dma:/DEVICE/stats` until `quarantined-pages` is `pages`.
fn settle_quarantine(pages: u64, what: &str) -> Outcome {
    let mut now = quiesce::quarantined_pages(DEVICE)?;
    for _ in 0..50 {
        if now == pages {
            return Ok(());
        }
        let _ = time::sleep(Duration::from_millis(100));
        now = quiesce::quarantined_pages(DEVICE)?;
    }
    Err(format!("{what}: {now} pages quarantined, expected {pages}"))
}

/// A holder's buffers are quarantined while its device is not confirmed quiet, and come
/// back once it is.
pub fn unconfirmed_quiesce_quarantines_until_confirmed() -> Outcome {
    let result = quarantine_round();
    // Whatever happened, leave the device's quiesce working and confirmed for the tests
    // after this one (an open retries a failed quiesce).
    let _ = switch(false);
    if let Ok(device) = sys::open(&format!("device:{DEVICE}"), O_RDONLY) {
        let _ = sys::close(device);
    }
    result
}

fn quarantine_round() -> Outcome {
    let before = stats::read(DEVICE)?;
    ensure!(
        quiesce::quarantined_pages(DEVICE)? == 0,
        "pages are quarantined before the test"
    );
    switch(true)?;
    expect_ending(
        "dma-holder device-exit",
        child::run_as("dma-holder", "/bin/dma-holder", &[BUFFERS, "device-exit"])?,
        Ending::Exited(0),
    )?;
    settle_quarantine(PAGES, "after the holder died with its device unconfirmed")?;
    let record = quiesce::kernel_record(DEVICE)?;
    ensure!(
        record.state == "failed" && record.confirmed < record.generation,
        "sys:quiesce says {DEVICE} is {} (generation {}, confirmed {}), expected failed",
        record.state,
        record.generation,
        record.confirmed
    );
    let reclaim = quiesce::last_reclaim(DEVICE)?.ok_or("dmad recorded no release")?;
    ensure!(
        reclaim.verdict == "quarantined"
            && reclaim.generation == record.generation
            && reclaim.confirmed == record.confirmed,
        "dmad's last release: {reclaim:?}, expected quarantined at generation {}",
        record.generation
    );
    let held = stats::read(DEVICE)?;
    ensure!(
        held.free_pages + PAGES == before.free_pages && held.live_buffers == before.live_buffers,
        "with {PAGES} pages quarantined the pool shows {held}, before {before}"
    );
    // Not handed out: allocating and releasing leaves them out of the free pages (the
    // dma-pool host tests check that no allocation lands on a quarantined page).
    let buffer = Buffer::allocate(DEVICE, PAGE_SIZE)
        .map_err(|error| format!("alloc: {}", errno_name(error.errno)))?;
    drop(buffer);
    // This process never held the device: its own buffer goes back as usual.
    stats::settle(DEVICE, held, "after an allocation with pages quarantined")?;
    settle_quarantine(PAGES, "after an allocation while the device is unconfirmed")?;
    expect_ending(
        "dmastat",
        child::run("/bin/dmastat", &[])?,
        Ending::Exited(0),
    )?;
    // The device cannot be handed to a new holder while its quiesce still fails.
    expect_errno(
        "open the unconfirmed device",
        sys::open(&format!("device:{DEVICE}"), O_RDONLY),
        EIO,
    )?;
    switch(false)?;
    let device = sys::open(&format!("device:{DEVICE}"), O_RDONLY)
        .map_err(|error| format!("open device:{DEVICE}: {}", errno_name(error.errno)))?;
    let _ = sys::close(device);
    let record = quiesce::kernel_record(DEVICE)?;
    ensure!(
        record.state == "quiet" && record.confirmed == record.generation,
        "after a working quiesce sys:quiesce says {record:?}"
    );
    settle_quarantine(0, "after the device was confirmed quiet")?;
    stats::settle(DEVICE, before, "after the quarantine was lifted")
}
