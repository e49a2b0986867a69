//! A driver killed mid-I/O: the kernel quiesces its device before dmad takes its buffers back.
//!
//! The driver (`--crash-after N`) dies in the middle of a transfer, with the request handed
//! to the device. The kernel's exit path quiesces the device first (`sys:quiesce`: a new
//! generation, confirmed, bus mastering off or transport reset read back), and only then
//! closes the driver's descriptors; dmad, releasing each buffer, records the device
//! generation it checked (`quiesce-checked` in `dma:/DEVICE/stats`). Had the buffers
//! come back before the quiesce, dmad would have seen the generation from before the death.
//! And since dmad runs only after the dying driver's exit path, the order inside that path
//! is checked from the kernel's side: `files-at-quiesce` says how many descriptors the
//! driver still had when its device was quiesced — more than its live buffers (one `dma:`
//! descriptor each) — so none of them had been closed yet.

use crate::driver_under_test::DriverUnderTest;
use core::time::Duration;
use dma_tests::{quiesce, stats};
use process_tests::check::Outcome;
use process_tests::ensure;
use userlib::time;

/// After how many transfers this driver dies (not the other crash test's count).
const CRASH_AFTER: u64 = 7;

/// A driver killed mid-I/O has its device quiesced before any of its buffers is reused.
pub fn killed_driver_device_quiesced_before_reuse(driver: &DriverUnderTest) -> Outcome {
    let device = driver.device;
    let before = stats::read(device)?;
    let earlier = quiesce::kernel_record(device)?;
    let mut buffers = 0;
    let pid = driver.crash(CRASH_AFTER, || {
        let running = quiesce::kernel_record(device)?;
        ensure!(
            running.state == "active",
            "sys:quiesce says {device} is {} while its driver runs",
            running.state
        );
        buffers = stats::read(device)?.live_buffers;
        Ok(())
    })?;
    let after = quiesce::kernel_record(device)?;
    ensure!(
        after.state == "quiet" && after.generation > earlier.generation,
        "sys:quiesce says {device} is {} at generation {} (was {}): no confirmed quiesce at the driver's death",
        after.state,
        after.generation,
        earlier.generation
    );
    ensure!(
        after.confirmed == after.generation,
        "the quiesce at generation {} was not confirmed (confirmed {})",
        after.generation,
        after.confirmed
    );
    // The exit path quiesced the device while the driver's descriptors — its device handle
    // and one `dma:` handle per live buffer — were all still open.
    let files = after.files_at_quiesce.unwrap_or(0);
    ensure!(
        files > buffers,
        "the device was quiesced when the driver had {files} descriptors open, fewer than its {buffers} buffers plus its device: its buffers went back first"
    );
    stats::settle(
        device,
        before,
        "after the killed driver's buffers came back",
    )?;
    // Every release of the dead driver's buffers happened after the quiesce: the last one
    // saw the quiesce's generation, confirmed, and reused the buffer.
    let mut reclaim = quiesce::last_reclaim(device)?;
    for _ in 0..50 {
        if reclaim.as_ref().is_some_and(|r| r.owner == pid as u64) {
            break;
        }
        let _ = time::sleep(Duration::from_millis(100));
        reclaim = quiesce::last_reclaim(device)?;
    }
    let reclaim = reclaim.ok_or("dmad recorded no release of the driver's buffers")?;
    ensure!(
        reclaim.owner == pid as u64,
        "dmad's last release was of pid {}'s buffer, not the driver's ({pid})",
        reclaim.owner
    );
    ensure!(
        reclaim.generation == after.generation && reclaim.confirmed == after.generation,
        "dmad released the driver's buffers having seen generation {} (confirmed {}), not the quiesce at its death ({})",
        reclaim.generation,
        reclaim.confirmed,
        after.generation
    );
    ensure!(
        reclaim.verdict == "reused",
        "dmad {} the buffers of a device confirmed quiet",
        reclaim.verdict
    );
    ensure!(
        quiesce::quarantined_pages(device)? == 0,
        "pages are quarantined although the device was confirmed quiet"
    );
    Ok(())
}
