//! `dma-tests`: the `dma` suite's driver, started by the test image's manifest.
//!
//! It checks dmad from the outside through the `dma:` scheme, as any driver would use it:
//! buffer shape (power-of-two pages, aligned, zeroed, write-combining at the device
//! address), every errno of the scheme from a request that must cause it — each leaving
//! the pool's counts unchanged — the pool's exhaustion and a closed-but-mapped buffer,
//! buffers coming back from clients that exit or crash, buffers quarantined while their
//! device's quiesce is unconfirmed (the test kernel's switch), and concurrent clients. It prints
//! the guest test protocol (see `process_tests::runner`) and exits 0 only when every test
//! passed.
//!
//! The manifest grants it `virtio-blk0` with a quota of `DRIVER_QUOTA_PAGES` pages; the
//! clients it spawns are declared there with `autostart = false` (except `dma-stranger`,
//! which must have no grant). Each test releases everything it allocated and waits for the
//! pool's counts to come back before the next.
#![no_std]
#![no_main]

extern crate alloc;

mod allocation;
mod clients;
mod errors;
mod quarantine;

use process_tests::runner::Suite;
use userlib::Args;

userlib::entry!(main);

fn main(_args: Args) -> i32 {
    let mut suite = Suite::new("dma");
    suite.run("listing_names_the_pool", allocation::listing_names_the_pool);
    suite.run(
        "buffers_are_aligned_powers_of_two_and_zeroed",
        allocation::buffers_are_aligned_powers_of_two_and_zeroed,
    );
    suite.run(
        "buffers_are_zeroed_after_a_previous_owner",
        allocation::buffers_are_zeroed_after_a_previous_owner,
    );
    suite.run(
        "mappings_are_write_combining_at_the_device_address",
        allocation::mappings_are_write_combining_at_the_device_address,
    );
    suite.run("unknown_device_is_enoent", errors::unknown_device_is_enoent);
    suite.run(
        "malformed_requests_are_einval",
        errors::malformed_requests_are_einval,
    );
    suite.run(
        "bad_map_ranges_are_einval",
        errors::bad_map_ranges_are_einval,
    );
    suite.run("quota_is_edquot", errors::quota_is_edquot);
    suite.run(
        "ungranted_process_gets_eacces",
        errors::ungranted_process_gets_eacces,
    );
    suite.run(
        "foreign_and_closed_descriptors_are_ebadf",
        errors::foreign_and_closed_descriptors_are_ebadf,
    );
    suite.run(
        "exhausted_pool_is_enomem",
        clients::exhausted_pool_is_enomem,
    );
    suite.run(
        "closed_mapped_buffer_is_not_reused",
        clients::closed_mapped_buffer_is_not_reused,
    );
    suite.run(
        "exiting_holders_return_their_buffers",
        clients::exiting_holders_return_their_buffers,
    );
    suite.run(
        "crashing_holders_return_their_buffers",
        clients::crashing_holders_return_their_buffers,
    );
    suite.run(
        "unconfirmed_quiesce_quarantines_until_confirmed",
        quarantine::unconfirmed_quiesce_quarantines_until_confirmed,
    );
    suite.run(
        "concurrent_workers_keep_their_buffers",
        clients::concurrent_workers_keep_their_buffers,
    );
    suite.finish()
}
