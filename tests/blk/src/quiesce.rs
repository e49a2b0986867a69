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
use alloc::format;
use alloc::vec::Vec;
use core::time::Duration;
use dma_tests::{iommu, quiesce, stats};
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

/// After how many transfers the driver of [`killed_driver_loses_its_domain_mappings`] dies.
const CRASH_AFTER_CONFINED: u64 = 5;

/// A driver killed mid-I/O loses its IOMMU domain mappings before its pages are reused
/// (dmad's crate doc, "Releasing a buffer"): while it runs, `sys:iommu` walks the device's
/// domain and finds exactly the pages of its live buffers; once the pool is whole again, none of them —
/// nor anything else — is left in the domain, and nothing is quarantined (every unmap
/// succeeded). Without an IOMMU (`iommu none`: plain machines) there is no
/// domain to walk and the test checks only the pool.
pub fn killed_driver_loses_its_domain_mappings(driver: &DriverUnderTest) -> Outcome {
    let device = driver.device;
    let before = stats::read(device)?;
    // Only PCI functions sit behind the IOMMU; every test machine's block devices are PCI
    // functions on both CPUs (virtio-pci, NVMe), so a confining machine must confine this one.
    let confined = iommu::confined(&iommu::read()?);
    ensure!(
        !confined || iommu::on_pci(device),
        "{device} is not a PCI function, so the IOMMU cannot confine it"
    );
    let mut mapped = Vec::new();
    driver.crash(CRASH_AFTER_CONFINED, || {
        if !confined {
            return Ok(());
        }
        // The walk joins neighbouring buffers into one range: compare pages, not counts.
        let held = before.free_pages - stats::read(device)?.free_pages;
        let text = iommu::read()?;
        mapped = iommu::mappings(&text, device)
            .ok_or(format!("sys:iommu lists no domain for {device}:\n{text}"))?;
        let pages: u64 = mapped.iter().map(|(_, _, size)| size / 4096).sum();
        ensure!(
            pages > 0 && pages == held,
            "{device}'s domain maps {pages} pages while its driver holds {held}:\n{text}"
        );
        Ok(())
    })?;
    stats::settle(
        device,
        before,
        "after the killed driver's buffers came back",
    )?;
    if confined {
        let text = iommu::read()?;
        let left = iommu::mappings(&text, device).unwrap_or_default();
        ensure!(
            left.is_empty(),
            "the dead driver's pool is whole but {device}'s domain still maps {left:x?} (it mapped {mapped:x?})"
        );
    }
    ensure!(
        quiesce::quarantined_pages(device)? == 0,
        "pages are quarantined although every unmap succeeded"
    );
    Ok(())
}
