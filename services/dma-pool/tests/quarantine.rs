//! Quarantine: a released buffer whose device may still write into it keeps its pages out of
//! the pool, counted, until the quarantine is lifted.

mod common;

use common::*;
use dma_pool::{PoolError, PAGE_SIZE};

#[test]
fn quarantined_pages_are_counted_never_handed_out_and_return_when_lifted() {
    let (mut registry, _) = registry_with_pool(64);
    let mut zeroer = RecordingZeroer::default();
    let held = registry
        .alloc("blk0", 16 * PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    let kept = registry
        .alloc("blk0", PAGE_SIZE, None, BOB, &mut zeroer)
        .unwrap();
    let pool = held.handle.pool();
    let before = registry.pool(pool).unwrap().stats();

    assert_eq!(registry.quarantine(held.handle, ALICE), Ok(16));
    registry.check_invariants().unwrap();
    let stats = registry.pool(pool).unwrap().stats();
    assert_eq!(
        (stats.quarantined_buffers, stats.quarantined_pages),
        (1, 16)
    );
    assert_eq!(
        (stats.live_buffers, stats.free_pages),
        (1, before.free_pages)
    );
    // The owner is no longer charged; the handle is dead.
    assert_eq!(registry.owner_usage(ALICE).charged_pages(), 0);
    assert_eq!(
        registry.quarantine(held.handle, ALICE),
        Err(PoolError::BadHandle)
    );
    assert_eq!(
        registry.release(held.handle, ALICE),
        Err(PoolError::BadHandle)
    );
    // The pool cannot be retired while it holds quarantined pages.
    assert_eq!(registry.retire("blk0"), Err(PoolError::Busy));

    // Fill the pool: nothing lands on a quarantined page.
    let mut taken = Vec::new();
    while let Ok(allocation) = registry.alloc("blk0", PAGE_SIZE, None, BOB, &mut zeroer) {
        taken.push(allocation);
    }
    assert_eq!(taken.len() as u64, before.free_pages);
    for allocation in &taken {
        let overlaps = allocation.phys < held.phys + held.size_bytes
            && held.phys < allocation.phys + allocation.size_bytes;
        assert!(!overlaps, "{allocation:?} lies in the quarantined buffer");
    }
    for allocation in taken {
        registry.release(allocation.handle, BOB).unwrap();
    }

    assert_eq!(registry.release_quarantined(pool), (1, 16));
    registry.check_invariants().unwrap();
    let after = registry.pool(pool).unwrap().stats();
    assert_eq!((after.quarantined_buffers, after.quarantined_pages), (0, 0));
    assert_eq!(after.free_pages, before.free_pages + 16);
    assert_eq!(registry.release_quarantined(pool), (0, 0));
    registry.release(kept.handle, BOB).unwrap();
    assert_eq!(registry.pool(pool).unwrap().stats().free_pages, 64);
}

#[test]
fn a_mapped_quarantined_buffer_waits_for_its_last_unmap_and_the_next_lift() {
    let (mut registry, _) = registry_with_pool(64);
    let mut zeroer = RecordingZeroer::default();
    let buffer = registry
        .alloc("blk0", PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    let token = registry.map_added(buffer.handle, ALICE).unwrap();
    registry.quarantine(buffer.handle, ALICE).unwrap();
    assert_eq!(registry.release_quarantined(buffer.handle.pool()), (0, 0));
    registry.map_removed(token).unwrap();
    registry.check_invariants().unwrap();
    let stats = registry.pool(buffer.handle.pool()).unwrap().stats();
    assert_eq!((stats.quarantined_pages, stats.free_pages), (1, 63));
    assert_eq!(registry.release_quarantined(buffer.handle.pool()), (1, 1));
    assert_eq!(
        registry
            .pool(buffer.handle.pool())
            .unwrap()
            .stats()
            .free_pages,
        64
    );
}
