//! The scenario for a map that runs out of frames partway: it must change nothing.

use super::refusals::{populated, FREE};
use super::DATA;
use crate::paging::{entry_size, MapError, PageSizes, PageTableFormat, LOWER_HALF_END, PAGE_SIZE};

/// A map that runs out of frames after any number of allocations changes nothing; with one
/// frame more it succeeds.
pub fn out_of_frames_midway_changes_nothing<F: PageTableFormat>() {
    let boundary = 1u64 << 39;
    let requests = [
        (boundary - 2 * PAGE_SIZE, 4 * PAGE_SIZE, PageSizes::Small),
        (
            FREE - entry_size(2),
            2 * entry_size(1) + 2 * entry_size(2) + PAGE_SIZE,
            PageSizes::Any,
        ),
        (
            0u64.wrapping_sub(entry_size(1) + PAGE_SIZE),
            2 * PAGE_SIZE,
            PageSizes::Small,
        ),
    ];
    for (virtual_start, size, page_sizes) in requests {
        let mut allowed = 0;
        loop {
            let (mut table, mut memory, mut frames) = populated::<F>();
            let (before, live) = (memory.snapshot(), frames.live_tables());
            frames.fail_after(allowed);
            let physical = virtual_start & (LOWER_HALF_END - 1);
            let result = table.map(
                &mut memory,
                &mut frames,
                virtual_start,
                physical,
                size,
                DATA,
                page_sizes,
            );
            if result.is_ok() {
                assert!(allowed > 0, "{virtual_start:#x} needed no table");
                assert_eq!(
                    frames.live_tables(),
                    live + allowed,
                    "{virtual_start:#x} reserved too many"
                );
                break;
            }
            assert_eq!(result, Err(MapError::OutOfFrames));
            assert_eq!(
                memory.snapshot(),
                before,
                "{virtual_start:#x} with {allowed} frames"
            );
            assert_eq!(frames.live_tables(), live);
            allowed += 1;
        }
    }
}
