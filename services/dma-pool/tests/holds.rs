//! Holds (`registry/shares.rs`): a buffer kept alive for a holder that is not its owner,
//! named by the token its hold returned — dmad's imports.

mod common;

use common::*;
use dma_pool::{PoolError, Release, Unmapped, PAGE_SIZE};

#[test]
fn a_hold_keeps_a_released_buffer_until_it_and_its_mappings_go() {
    let (mut registry, _) = registry_with_pool(64);
    let mut zeroer = RecordingZeroer::default();
    let buffer = registry
        .alloc("blk0", 2 * PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    // Only the owner of a live buffer gives a hold.
    assert_eq!(registry.hold(buffer.handle, BOB), Err(PoolError::BadHandle));
    let hold = registry.hold(buffer.handle, ALICE).unwrap();
    // The holder maps through its token, with check_map's rules.
    let range = registry.check_map_held(hold, PAGE_SIZE, PAGE_SIZE).unwrap();
    assert_eq!(range.phys, buffer.phys + PAGE_SIZE);
    assert!(registry.check_map_held(hold, 0, 3 * PAGE_SIZE).is_err());
    assert!(registry.check_map_held(hold, 1, PAGE_SIZE).is_err());
    registry.map_added_held(hold).unwrap();
    // The owner releases: deferred, still charged to it, still described to the holder.
    assert!(matches!(
        registry.release(buffer.handle, ALICE),
        Ok(Release::Deferred {
            pages: 2,
            mappings: 2
        })
    ));
    assert_eq!(registry.owner_usage(ALICE).deferred_pages, 2);
    let info = registry.held_buffer(hold).unwrap();
    assert!(info.released);
    assert_eq!(info.owner, ALICE);
    registry.check_map_held(hold, 0, 2 * PAGE_SIZE).unwrap();
    // The hold goes, then the mapping: the pages return with the last.
    assert_eq!(
        registry.map_removed(hold),
        Ok(Unmapped::StillMapped { mappings: 1 })
    );
    assert_eq!(registry.map_removed(hold), Ok(Unmapped::Freed { pages: 2 }));
    assert_eq!(registry.owner_usage(ALICE).charged_pages(), 0);
    // The token is stale now.
    assert_eq!(registry.held_buffer(hold), Err(PoolError::BadHandle));
    assert!(registry.check_map_held(hold, 0, PAGE_SIZE).is_err());
    assert_eq!(registry.map_added_held(hold), Err(PoolError::BadHandle));
    registry.check_invariants().unwrap();
}

#[test]
fn a_token_without_a_hold_or_mapping_names_nothing() {
    let (mut registry, _) = registry_with_pool(64);
    let mut zeroer = RecordingZeroer::default();
    let buffer = registry
        .alloc("blk0", PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    let hold = registry.hold(buffer.handle, ALICE).unwrap();
    assert_eq!(registry.map_removed(hold), Ok(Unmapped::Unmapped));
    // The owner still holds the buffer, but the holder no longer does.
    assert_eq!(registry.held_buffer(hold), Err(PoolError::BadHandle));
    assert_eq!(registry.map_added_held(hold), Err(PoolError::BadHandle));
    assert!(matches!(
        registry.release(buffer.handle, ALICE),
        Ok(Release::Freed { pages: 1 })
    ));
    registry.check_invariants().unwrap();
}
