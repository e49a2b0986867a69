//! `nvme-tests`: the `nvme` guest suite, run against the NVMe driver and QEMU's `nvme`
//! controller on both CPUs.
//!
//! The suite's image declares `nvme` (granted `nvme` and `nvme0`) with `autostart = false`:
//! this program starts the driver itself, so it sees the pool before the driver runs. In
//! order:
//!
//! 1. `dying_driver_returns_its_buffers`: `nvme --crash-after N` dies with its `N`th read
//!    in flight; the client sees `EIO`, the driver exit status 101, and the pool returns to
//!    empty;
//! 2. `killed_driver_device_quiesced_before_reuse`: a second driver dies mid-I/O; the
//!    kernel quiesced `nvme0` (bus mastering off, read back) while all the driver's
//!    descriptors were still open, and dmad released its buffers having seen that quiesce;
//! 3. `killed_driver_loses_its_domain_mappings`: a third driver dies mid-I/O; behind an
//!    IOMMU, `sys:iommu` shows its live buffers in `nvme0`'s domain while it runs and none
//!    once the pool is whole again (unmapped before the pages returned);
//! 4. `driver_serves_nvme`: a fresh driver resets the controller the dead one left enabled,
//!    registers `nvme:`; `nvme:/size` is the image's 16 MiB and sector 0 is its header;
//! 5. `driver_runs_interrupt_driven`: `nvme:/status` says `mode interrupt` (`irq:nvme0`:
//!    MSI-X on x86_64 and on aarch64's GICv2 through GICv2m, PCI INTx on GICv3), and ten
//!    reads are ten completions, each woken
//!    by an interrupt, none found by the polling fallback;
//! 6. `identify_is_sane`: the driver's `info` (from Identify Controller / Namespace): QEMU's
//!    model, the serial xtask gave, namespace blocks × block size = the image size, and the
//!    completion mode it uses (`interrupt`);
//! 7. `reads_every_block`: the whole namespace compares equal to the image's pattern;
//! 8. `writes_a_range`: the range the host checks in the image file afterwards;
//! 9. `refuses_bad_requests`: unaligned or out-of-range offsets, lengths and seeks, and bulk
//!    requests of 0 or 257 blocks, past the end or wrapping, get `EINVAL`, writes at the end
//!    `ENOSPC`; the driver still serves afterwards;
//! 10. `mixed_requests`: 1,000 random bulk reads and writes of 1..=256 blocks in the second
//!     half (one NVMe command each, PRP lists above two pages), reads checked by digest,
//!     exactly one interrupt per completion;
//! 11. `buffers_come_from_the_pool`: every buffer the driver lists (queues, PRP list,
//!     identify page, data) lies in `nvme0`'s pool, and dmad counts exactly those as live.
#![no_std]
#![no_main]

extern crate alloc;

mod driver;
mod mixed;
mod pool;

use blk_tests::{pattern, quiesce};
use process_tests::runner::Suite;
use userlib::Args;

userlib::entry!(main);

/// The NVMe driver's scheme.
pub const SCHEME: &str = "nvme";

fn main(_args: Args) -> i32 {
    let mut suite = Suite::new("nvme");
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
    suite.run("driver_serves_nvme", driver::driver_serves_nvme);
    suite.run(
        "driver_runs_interrupt_driven",
        driver::driver_runs_interrupt_driven,
    );
    suite.run("identify_is_sane", driver::identify_is_sane);
    suite.run("reads_every_block", || pattern::reads_every_sector(SCHEME));
    suite.run("writes_a_range", || pattern::writes_a_range(SCHEME));
    suite.run("refuses_bad_requests", mixed::refuses_bad_requests);
    suite.run("mixed_requests", mixed::mixed_requests);
    suite.run(
        "buffers_come_from_the_pool",
        pool::buffers_come_from_the_pool,
    );
    suite.finish()
}
