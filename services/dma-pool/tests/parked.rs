//! Parked buffer records (`buffers.rs`): a freed record whose pages went into the hot cache
//! stays linked for the next allocation at those pages. These tests pin what an observer
//! must never notice: stale handles stay stale, a full table still holds `capacity` buffers,
//! a flush of the hot cache gives the records back, and the address lookup never finds one.
//! A parked record keeps its owner's charge in the owner table; the tests below pin that no
//! reader sees it and that quotas and the owner table's capacity stay exact.

mod common;

use common::{registry_with_pool, RecordingZeroer, ALICE, BOB, REGION_BASE, REGION_SIZE};
use dma_pool::{CacheType, PoolDeclaration, PoolError, PoolRegistry, PAGE_SIZE};

fn alloc(registry: &mut PoolRegistry, device: &str, pages: u64) -> dma_pool::Allocation {
    registry
        .alloc(
            device,
            pages * PAGE_SIZE,
            None,
            ALICE,
            &mut RecordingZeroer::default(),
        )
        .unwrap()
}

/// A registry whose one pool (`"tiny0"`, 64 pages) has room for `capacity` buffers.
fn tiny_pool(capacity: u32) -> PoolRegistry {
    let mut registry = PoolRegistry::new();
    registry
        .add_reserved_region(REGION_BASE, REGION_SIZE)
        .unwrap();
    registry
        .declare(
            &PoolDeclaration::new(
                "tiny",
                "tiny0",
                REGION_BASE,
                REGION_BASE,
                64 * PAGE_SIZE,
                CacheType::WriteCombining,
            )
            .with_buffer_capacity(capacity),
        )
        .unwrap();
    registry
}

#[test]
fn a_revived_record_answers_only_to_its_new_handle() {
    let (mut registry, _) = registry_with_pool(64);
    let first = alloc(&mut registry, "blk0", 2);
    registry.release(first.handle, ALICE).unwrap();
    // Parked: the old handle and the start address name nothing.
    assert_eq!(
        registry.release(first.handle, ALICE),
        Err(PoolError::BadHandle)
    );
    assert_eq!(
        registry.handle_at("blk0", first.device_address, ALICE),
        Err(PoolError::BadHandle)
    );
    assert!(registry
        .pool_for_device("blk0")
        .unwrap()
        .buffers()
        .next()
        .is_none());
    registry.check_invariants().unwrap();
    // Revived by another owner at the same pages: only the new handle, only the new owner.
    let second = registry
        .alloc(
            "blk0",
            2 * PAGE_SIZE,
            None,
            BOB,
            &mut RecordingZeroer::default(),
        )
        .unwrap();
    assert_eq!(second.device_address, first.device_address);
    assert_eq!(second.handle.slot(), first.handle.slot());
    assert_ne!(second.handle.generation(), first.handle.generation());
    assert_eq!(
        registry.release(first.handle, ALICE),
        Err(PoolError::BadHandle)
    );
    assert_eq!(
        registry.release(second.handle, ALICE),
        Err(PoolError::BadHandle)
    );
    assert_eq!(
        registry.handle_at("blk0", second.device_address, BOB),
        Ok(second.handle)
    );
    assert_eq!(registry.owner_usage(ALICE).live_pages, 0);
    assert_eq!(registry.owner_usage(BOB).live_pages, 2);
    registry.check_invariants().unwrap();
    registry.release(second.handle, BOB).unwrap();
    registry.check_invariants().unwrap();
}

#[test]
fn parked_records_never_cost_capacity() {
    // Two records; both parked after two releases of different orders.
    let mut registry = tiny_pool(2);
    let one = alloc(&mut registry, "tiny0", 1);
    let two = alloc(&mut registry, "tiny0", 2);
    registry.release(one.handle, ALICE).unwrap();
    registry.release(two.handle, ALICE).unwrap();
    registry.check_invariants().unwrap();
    // Two buffers of other orders, at other pages: each takes a parked record.
    let four = alloc(&mut registry, "tiny0", 4);
    registry.check_invariants().unwrap();
    let eight = alloc(&mut registry, "tiny0", 8);
    registry.check_invariants().unwrap();
    // And the table is full now, with pages left.
    assert_eq!(
        registry.alloc(
            "tiny0",
            PAGE_SIZE,
            None,
            ALICE,
            &mut RecordingZeroer::default()
        ),
        Err(PoolError::OutOfMemory)
    );
    for stale in [one.handle, two.handle] {
        assert_eq!(registry.release(stale, ALICE), Err(PoolError::BadHandle));
    }
    registry.release(four.handle, ALICE).unwrap();
    registry.release(eight.handle, ALICE).unwrap();
    registry.check_invariants().unwrap();
    let pool = registry.pool_for_device("tiny0").unwrap();
    assert_eq!(pool.stats().free_pages, 64);
    assert_eq!(pool.stats().live_buffers, 0);
}

#[test]
fn a_flush_gives_the_parked_records_back() {
    let mut registry = tiny_pool(4);
    let low = alloc(&mut registry, "tiny0", 32);
    let high = alloc(&mut registry, "tiny0", 32);
    registry.release(low.handle, ALICE).unwrap(); // parked, hot
    registry.release(high.handle, ALICE).unwrap(); // hot slot taken: vacated, merged
    registry.check_invariants().unwrap();
    // Only the whole pool is left to ask for: the hot block must be flushed and merged,
    // and its parked record vacated, for this to succeed.
    let whole = alloc(&mut registry, "tiny0", 64);
    registry.check_invariants().unwrap();
    assert_eq!(
        registry.handle_at("tiny0", low.device_address, ALICE),
        Ok(whole.handle)
    );
    for stale in [low.handle, high.handle] {
        assert_eq!(registry.release(stale, ALICE), Err(PoolError::BadHandle));
    }
    registry.release(whole.handle, ALICE).unwrap();
    registry.check_invariants().unwrap();
    // Every record is usable again: four buffers fit.
    let handles: Vec<_> = (0..4)
        .map(|_| alloc(&mut registry, "tiny0", 1).handle)
        .collect();
    registry.check_invariants().unwrap();
    for handle in handles {
        registry.release(handle, ALICE).unwrap();
    }
    registry.check_invariants().unwrap();
}

#[test]
fn a_mapped_buffer_is_deferred_then_freed_on_its_last_unmap() {
    let (mut registry, _) = registry_with_pool(16);
    let buffer = alloc(&mut registry, "blk0", 4);
    let token = registry.map_added(buffer.handle, ALICE).unwrap();
    registry.release(buffer.handle, ALICE).unwrap();
    assert_eq!(registry.owner_usage(ALICE).deferred_pages, 4);
    registry.map_removed(token).unwrap();
    assert_eq!(registry.owner_usage(ALICE).deferred_pages, 0);
    assert_eq!(registry.owner_usage(ALICE).live_pages, 0);
    // The token is spent and the record vacated (a deferred buffer's record is never
    // parked: its owner's charge is settled on the unmap): removing again is refused.
    assert_eq!(registry.map_removed(token), Err(PoolError::BadHandle));
    registry.check_invariants().unwrap();
    let again = alloc(&mut registry, "blk0", 4);
    assert_eq!(again.device_address, buffer.device_address);
    assert_eq!(registry.map_removed(token), Err(PoolError::BadHandle));
    registry.check_invariants().unwrap();
}

/// A registry with room for `owners` owners and one 64-page pool, `"tiny0"`.
fn tiny_pool_with_owners(owners: usize) -> PoolRegistry {
    let mut registry = PoolRegistry::with_owner_capacity(owners);
    registry
        .add_reserved_region(REGION_BASE, REGION_SIZE)
        .unwrap();
    registry
        .declare(&PoolDeclaration::new(
            "tiny",
            "tiny0",
            REGION_BASE,
            REGION_BASE,
            64 * PAGE_SIZE,
            CacheType::WriteCombining,
        ))
        .unwrap();
    registry
}

fn alloc_as(
    registry: &mut PoolRegistry,
    owner: dma_pool::OwnerId,
    pages: u64,
) -> Result<dma_pool::Allocation, PoolError> {
    registry.alloc(
        "tiny0",
        pages * PAGE_SIZE,
        None,
        owner,
        &mut RecordingZeroer::default(),
    )
}

#[test]
fn a_parked_charge_is_invisible_and_the_quota_stays_exact() {
    let mut registry = tiny_pool_with_owners(4);
    registry.set_owner_quota(ALICE, Some(4)).unwrap();
    let first = alloc_as(&mut registry, ALICE, 4).unwrap();
    registry.release(first.handle, ALICE).unwrap();
    // Parked with ALICE, still charged in the table: no reader sees it.
    let usage = registry.owner_usage(ALICE);
    assert_eq!(
        (usage.live_buffers, usage.live_pages, usage.charged_pages()),
        (0, 0, 0)
    );
    assert!(registry.owners().all(|(_, usage)| usage.live_buffers == 0));
    registry.check_invariants().unwrap();
    // The whole quota is free again, for the parked pages or any others.
    let second = alloc_as(&mut registry, ALICE, 4).unwrap();
    assert_eq!(second.device_address, first.device_address);
    assert_eq!(registry.owner_usage(ALICE).live_pages, 4);
    assert_eq!(alloc_as(&mut registry, ALICE, 1), Err(PoolError::OverQuota));
    registry.release(second.handle, ALICE).unwrap();
    // Parked again; a request for other pages may use the whole quota too.
    let other = alloc_as(&mut registry, ALICE, 2).unwrap();
    let more = alloc_as(&mut registry, ALICE, 2).unwrap();
    assert_eq!(alloc_as(&mut registry, ALICE, 1), Err(PoolError::OverQuota));
    assert_eq!(registry.owner_usage(ALICE).live_pages, 4);
    registry.check_invariants().unwrap();
    registry.release(other.handle, ALICE).unwrap();
    registry.release(more.handle, ALICE).unwrap();
    registry.check_invariants().unwrap();
}

#[test]
fn a_record_parked_by_one_owner_revived_by_another_moves_the_charge() {
    let mut registry = tiny_pool_with_owners(4);
    registry.set_owner_quota(BOB, Some(2)).unwrap();
    let alices = alloc_as(&mut registry, ALICE, 2).unwrap();
    registry.release(alices.handle, ALICE).unwrap();
    let bobs = alloc_as(&mut registry, BOB, 2).unwrap();
    assert_eq!(bobs.device_address, alices.device_address);
    assert_eq!(registry.owner_usage(ALICE).charged_pages(), 0);
    assert_eq!(registry.owner_usage(BOB).live_pages, 2);
    assert_eq!(alloc_as(&mut registry, BOB, 1), Err(PoolError::OverQuota));
    assert_eq!(
        registry
            .owners()
            .map(|(owner, _)| owner)
            .collect::<Vec<_>>(),
        [BOB]
    );
    registry.check_invariants().unwrap();
    // ALICE's old handle names nothing; BOB's buffer is BOB's alone.
    assert_eq!(
        registry.release(alices.handle, ALICE),
        Err(PoolError::BadHandle)
    );
    assert_eq!(
        registry.release(bobs.handle, ALICE),
        Err(PoolError::BadHandle)
    );
    registry.release(bobs.handle, BOB).unwrap();
    assert_eq!(registry.owner_usage(BOB).charged_pages(), 0);
    registry.check_invariants().unwrap();
}

#[test]
fn owners_charged_only_for_parked_records_make_room_in_a_full_owner_table() {
    let mut registry = tiny_pool_with_owners(1);
    let alices = alloc_as(&mut registry, ALICE, 1).unwrap();
    registry.release(alices.handle, ALICE).unwrap();
    // ALICE's entry still holds the parked charge; BOB needs its room.
    let bobs = alloc_as(&mut registry, BOB, 2).unwrap();
    assert_eq!(registry.owner_usage(BOB).live_pages, 2);
    registry.check_invariants().unwrap();
    // A table full of an owner with a live buffer still refuses the next owner.
    assert_eq!(
        alloc_as(&mut registry, ALICE, 1),
        Err(PoolError::OutOfMemory)
    );
    registry.release(bobs.handle, BOB).unwrap();
    alloc_as(&mut registry, ALICE, 1).unwrap();
    registry.check_invariants().unwrap();
}

#[test]
fn release_all_and_retire_take_parked_charges_off() {
    let mut registry = tiny_pool_with_owners(2);
    let first = alloc_as(&mut registry, ALICE, 1).unwrap();
    let second = alloc_as(&mut registry, ALICE, 2).unwrap();
    registry.release(first.handle, ALICE).unwrap();
    let report = registry.release_all(ALICE);
    assert_eq!((report.freed_buffers, report.freed_pages), (1, 2));
    assert_eq!(registry.owners().count(), 0);
    registry.check_invariants().unwrap();
    // Parked again, then the pool retires with the record parked.
    let third = alloc_as(&mut registry, BOB, 4).unwrap();
    registry.release(third.handle, BOB).unwrap();
    assert_eq!(
        registry.release(second.handle, ALICE),
        Err(PoolError::BadHandle)
    );
    registry.retire("tiny0").unwrap();
    assert_eq!(registry.owner_usage(BOB).charged_pages(), 0);
    assert_eq!(registry.owners().count(), 0);
    registry.check_invariants().unwrap();
}
