//! `blk-tests`: the `virtio-blk` guest suite, run against the real driver and disk.
//!
//! The suite's image declares `virtio-blk` (granted `disk` and `virtio-blk0`) with
//! `autostart = false`: this program starts every driver instance itself, so it can first
//! measure the pool with no driver at all, then kill one mid-I/O, then run the rest
//! against a fresh one. Two drivers never run at once (they would share one device). In
//! order:
//!
//! 1. `dying_driver_returns_its_buffers`: `virtio-blk --crash-after N` dies in the middle
//!    of its `N`th transfer; the client sees `EIO`, the driver exit status 101, and the
//!    pool returns to what it was before any driver ran;
//! 2. `killed_driver_device_quiesced_before_reuse`: another driver dies mid-I/O; the kernel's
//!    `sys:quiesce` shows a new, confirmed quiesce generation for the device taken while
//!    the driver's descriptors were all open, and dmad's last release of the driver's
//!    buffers saw exactly that generation (so the device was stopped before any buffer went
//!    back), the pool whole, nothing quarantined;
//! 3. `killed_driver_loses_its_domain_mappings`: a third driver dies mid-I/O; behind an
//!    IOMMU, `sys:iommu` shows its live buffers in `virtio-blk0`'s domain while it runs and
//!    none once the pool is whole again (unmapped before the pages returned);
//! 4. `driver_serves_disk`: a normal driver registers `disk:`, `disk:/size` is 16 MiB and
//!    sector 0 is the image header (its open turns bus mastering back on);
//! 5. `driver_runs_interrupt_driven`: `disk:/status` says `mode interrupt`, and ten reads
//!    are completed by interrupts, none by the polling fallback;
//! 6. `reads_every_sector`: the whole disk compares equal to the image's pattern;
//! 7. `writes_a_range`: sectors `WRITTEN_FIRST_SECTOR..+WRITTEN_SECTORS` are rewritten and
//!    read back (xtask checks the image file after the run);
//! 8. `refuses_unaligned_requests`: `EINVAL` for unaligned offsets, lengths and seeks;
//! 9. `buffers_come_from_the_pool`: while the driver runs, `dma:/virtio-blk0/stats` lists
//!    it as an owner of pages, with live buffers;
//! 10. `mixed_requests`: 1,000 random reads and writes of 1..=128 sectors in the second half
//!     of the disk, each read checked against what was last written there.
#![no_std]
#![no_main]

extern crate alloc;

mod driver;
mod mixed;
mod pool;

use blk_tests::pattern;
use blk_tests::quiesce;
use process_tests::runner::Suite;
use userlib::Args;

userlib::entry!(main);

/// The virtio block driver's scheme.
const SCHEME: &str = disk_api::SCHEME;

fn main(_args: Args) -> i32 {
    let mut suite = Suite::new("virtio-blk");
    suite.run(
        "dying_driver_returns_its_buffers",
        driver::dying_driver_returns_its_buffers,
    );
    suite.run("killed_driver_device_quiesced_before_reuse", || {
        quiesce::killed_driver_device_quiesced_before_reuse(&driver::DRIVER)
    });
    suite.run("killed_driver_loses_its_domain_mappings", || {
        quiesce::killed_driver_loses_its_domain_mappings(&driver::DRIVER)
    });
    suite.run("driver_serves_disk", driver::driver_serves_disk);
    suite.run(
        "driver_runs_interrupt_driven",
        driver::driver_runs_interrupt_driven,
    );
    suite.run("reads_every_sector", || pattern::reads_every_sector(SCHEME));
    suite.run("writes_a_range", || pattern::writes_a_range(SCHEME));
    suite.run("refuses_unaligned_requests", || {
        pattern::refuses_unaligned_requests(SCHEME)
    });
    suite.run(
        "buffers_come_from_the_pool",
        pool::buffers_come_from_the_pool,
    );
    suite.run("mixed_requests", mixed::mixed_requests);
    suite.finish()
}
