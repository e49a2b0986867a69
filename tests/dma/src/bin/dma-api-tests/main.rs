//! `dma-api-tests`: the `dma-api` suite's driver (issue 16's driver-facing DMA API).
//!
//! It checks, from the outside through `dma:` and userlib as a driver would use them:
//! address constraints on allocations (a device address mask, a boundary, an alignment)
//! honoured, and impossible or malformed ones refused with `EINVAL` leaving the pool as it
//! was; the default pool's mapping cache type in the live page tables; userlib's
//! small-block `DmaPool` with a boundary (blocks never straddle it, a double free is caught)
//! and userlib's constrained allocation; each pool's declared cache type (`wb`, `wc`, `uc`)
//! in the tables and `SYS_DMA_SYNC` with a real device (`cache`); streaming mappings and the
//! typed hand-off (`streaming.rs`, with QEMU's edu DMA engine, `edu0`); buffers shared with
//! another process and another device (`sharing`: export tokens, imports, edu writing an
//! imported buffer through its own IOMMU domain, lifetime to the last holder, refused tokens); dmad's debug mode (a write
//! after free caught by the poison, a leak report when a driver exits holding buffers).
//!
//! The image's manifest (`user::DMA_API_TEST_MANIFEST`) grants it `virtio-blk0` (the
//! default pool, device offset 0, below 4 GiB) and `dma-api0`, a 1 MiB pool whose device
//! addresses are its physical addresses plus 4 GiB: a 32-bit mask can never reach it. It
//! may start `dma-sharer` (granted `edu0` only), the importer of the sharing tests.
#![no_std]
#![no_main]

extern crate alloc;

mod cache;
mod constraints;
mod debug;
mod edu;
mod sharing;
mod small_blocks;
mod streaming;

use process_tests::runner::Suite;
use userlib::Args;

userlib::entry!(main);

fn main(args: Args) -> i32 {
    if args.get(1) == Some(debug::SCRIBBLE_ARG) {
        return debug::scribbler(args.get(2));
    }
    let mut suite = Suite::new("dma-api");
    suite.run(
        "a_32_bit_mask_gets_a_buffer_below_4_gib",
        constraints::a_32_bit_mask_gets_a_buffer_below_4_gib,
    );
    suite.run(
        "a_mask_below_the_pool_is_einval",
        constraints::a_mask_below_the_pool_is_einval,
    );
    suite.run(
        "a_mask_covering_the_pool_is_met",
        constraints::a_mask_covering_the_pool_is_met,
    );
    suite.run(
        "boundaries_are_never_crossed",
        constraints::boundaries_are_never_crossed,
    );
    suite.run(
        "a_boundary_smaller_than_the_buffer_is_einval",
        constraints::a_boundary_smaller_than_the_buffer_is_einval,
    );
    suite.run(
        "malformed_masks_and_boundaries_are_einval",
        constraints::malformed_masks_and_boundaries_are_einval,
    );
    suite.run(
        "large_alignments_are_honoured",
        constraints::large_alignments_are_honoured,
    );
    suite.run(
        "default_pool_maps_write_combining_in_the_tables",
        constraints::default_pool_maps_write_combining_in_the_tables,
    );
    suite.run(
        "stats_show_each_pools_cache_type",
        constraints::stats_show_each_pools_cache_type,
    );
    suite.run(
        "userlib_constraints_reach_dmad",
        constraints::userlib_constraints_reach_dmad,
    );
    suite.run(
        "small_blocks_never_straddle_the_boundary",
        small_blocks::small_blocks_never_straddle_the_boundary,
    );
    suite.run(
        "small_block_double_free_is_caught",
        small_blocks::small_block_double_free_is_caught,
    );
    cache::register(&mut suite);
    streaming::register(&mut suite);
    sharing::run(&mut suite);
    suite.run(
        "poison_detects_a_write_after_free",
        debug::poison_detects_a_write_after_free,
    );
    suite.run(
        "leak_report_at_driver_exit",
        debug::leak_report_at_driver_exit,
    );
    suite.finish()
}
