//! `platform-tests`: the `platform` suite's driver, started by the test image's manifest.
//!
//! It checks what the machine's description makes of DMA, from the outside through `dma:`
//! and the test-only `sys:translate`: a device behind a bus with `dma-ranges` (or, on
//! x86_64, a manifest pool with a `device-offset`) gets device addresses = physical +
//! [`TEST_DEVICE_OFFSET`]; a device with no pool of its own borrows the global (default)
//! pool; dmad's table shows both; a process not granted a device gets `EACCES` even from
//! the default pool.
//!
//! The test image (see `tools/xtask/src/platform.rs` and `user::PLATFORM_TEST_MANIFEST`)
//! declares `dma-test0` (own pool, offset) and `dma-test1` (no pool); the manifest grants
//! this program both, and `dma-stranger` neither.
//!
//! The tests are one list, [`TESTS`], run in order: a new check of the platform (e.g. of a
//! `sys:platform` text) is one more function and one more entry.
#![no_std]
#![no_main]

extern crate alloc;

mod default_pool;
mod offset;
mod tables;

use process_tests::check::Outcome;
use process_tests::runner::{Suite, ARCH};
use userlib::Args;

userlib::entry!(main);

/// The device behind the offsetting bus, with its own pool.
pub const OFFSET_DEVICE: &str = "dma-test0";

/// The device with no pool of its own.
pub const POOLLESS_DEVICE: &str = "dma-test1";

/// What the test platform adds to a physical address for [`OFFSET_DEVICE`] (both CPUs).
pub const TEST_DEVICE_OFFSET: u64 = 0x1_0000_0000;

/// A test: its name in the protocol and its function.
type Test = (&'static str, fn() -> Outcome);

/// Every test, in the order it runs.
const TESTS: &[Test] = &[
    (
        "ecam_window_comes_from_the_tables",
        tables::ecam_window_comes_from_the_tables,
    ),
    (
        "interrupt_controller_comes_from_the_tables",
        tables::interrupt_controller_comes_from_the_tables,
    ),
    (
        "cpus_timer_console_and_psci_are_described",
        tables::cpus_timer_console_and_psci_are_described,
    ),
    (
        "offset_device_buffer_is_at_phys_plus_offset_zeroed_write_combining",
        offset::buffer_is_at_phys_plus_offset_zeroed_write_combining,
    ),
    (
        "device_without_pool_uses_the_default_pool",
        default_pool::device_without_pool_uses_the_default_pool,
    ),
    (
        "pool_table_shows_device_addresses_and_the_default",
        default_pool::pool_table_shows_device_addresses_and_the_default,
    ),
    (
        "ungranted_process_gets_eacces_from_the_default_pool",
        default_pool::ungranted_process_gets_eacces_from_the_default_pool,
    ),
];

/// Tests only one CPU's machine has.
const X86_64_TESTS: &[Test] = &[(
    "interrupt_stacks_are_distinct_and_guarded",
    tables::interrupt_stacks_are_distinct_and_guarded,
)];

fn main(_args: Args) -> i32 {
    let mut suite = Suite::new("platform");
    let own: &[Test] = if ARCH == "x86_64" { X86_64_TESTS } else { &[] };
    for (name, test) in TESTS.iter().chain(own) {
        suite.run(name, *test);
    }
    suite.finish()
}
