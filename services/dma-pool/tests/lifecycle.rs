//! The successful paths: allocation, zeroing, deferred release, reclaim at exit, quotas,
//! statistics, run-time declaration and retirement.

mod common;

use common::*;
use dma_pool::{
    CacheType, OwnerUsage, PoolDeclaration, PoolError, PoolRegistry, Release, ReleaseReport,
    Unmapped, PAGE_SIZE,
};

#[test]
fn allocation_is_aligned_zeroed_once_and_offset_for_the_device() {
    let (mut registry, _) = registry_with_pool(64);
    let mut zeroer = RecordingZeroer::default();
    let small = registry
        .alloc("blk0", 100, None, ALICE, &mut zeroer)
        .unwrap();
    let large = registry
        .alloc("blk0", 5 * PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    assert_eq!(small.size_bytes, PAGE_SIZE);
    assert_eq!(large.size_bytes, 8 * PAGE_SIZE);
    assert_eq!(large.device_address % (8 * PAGE_SIZE), 0);
    assert_eq!(large.device_address - large.phys, 1 << 30);
    assert_eq!(large.cache_type, CacheType::WriteCombining);
    assert_eq!(
        zeroer.calls,
        [(small.phys, PAGE_SIZE), (large.phys, 8 * PAGE_SIZE)]
    );
    // An explicit alignment beyond the size.
    let aligned = registry
        .alloc("blk0", PAGE_SIZE, Some(64 << 10), BOB, &mut zeroer)
        .unwrap();
    assert_eq!(aligned.device_address % (64 << 10), 0);
    assert_eq!(aligned.size_bytes, PAGE_SIZE);
    let info = registry.buffer(aligned.handle, BOB).unwrap();
    assert_eq!(
        (info.phys, info.owner, info.mappings, info.released),
        (aligned.phys, BOB, 0, false)
    );
}

#[test]
fn released_mapped_buffers_keep_their_pages_until_the_last_unmap() {
    let (mut registry, _) = registry_with_pool(16);
    let mut zeroer = RecordingZeroer::default();
    let buffer = registry
        .alloc("blk0", 4 * PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    let first = registry.map_added(buffer.handle, ALICE).unwrap();
    let second = registry.map_added(buffer.handle, ALICE).unwrap();
    assert_eq!(first, second);
    assert_eq!(
        registry.release(buffer.handle, ALICE),
        Ok(Release::Deferred {
            pages: 4,
            mappings: 2
        })
    );
    let stats = registry.pool_for_device("blk0").unwrap().stats();
    assert_eq!(
        (
            stats.free_pages,
            stats.live_buffers,
            stats.deferred_buffers,
            stats.deferred_pages
        ),
        (12, 0, 1, 4)
    );
    assert_eq!(
        registry.owner_usage(ALICE),
        OwnerUsage {
            live_buffers: 0,
            live_pages: 0,
            deferred_pages: 4,
            quota_pages: None
        }
    );
    // Nothing may be allocated on the held pages.
    let other = registry
        .alloc("blk0", 4 * PAGE_SIZE, None, BOB, &mut zeroer)
        .unwrap();
    assert_ne!(other.phys, buffer.phys);
    assert_eq!(
        registry.map_removed(first),
        Ok(Unmapped::StillMapped { mappings: 1 })
    );
    assert_eq!(
        registry.map_removed(second),
        Ok(Unmapped::Freed { pages: 4 })
    );
    assert_eq!(registry.owner_usage(ALICE), OwnerUsage::default());
    assert_eq!(
        registry.pool_for_device("blk0").unwrap().stats().free_pages,
        12
    );
    registry.check_invariants().unwrap();
}

#[test]
fn unmapping_a_live_buffer_keeps_it() {
    let (mut registry, _) = registry_with_pool(16);
    let buffer = registry
        .alloc(
            "blk0",
            PAGE_SIZE,
            None,
            ALICE,
            &mut RecordingZeroer::default(),
        )
        .unwrap();
    let token = registry.map_added(buffer.handle, ALICE).unwrap();
    assert_eq!(registry.map_removed(token), Ok(Unmapped::Unmapped));
    assert_eq!(
        registry.release(buffer.handle, ALICE),
        Ok(Release::Freed { pages: 1 })
    );
}

#[test]
fn release_all_reclaims_an_exiting_owner() {
    let (mut registry, _) = registry_with_pool(64);
    let mut zeroer = RecordingZeroer::default();
    let kept = registry
        .alloc("blk0", PAGE_SIZE, None, BOB, &mut zeroer)
        .unwrap();
    let mapped = registry
        .alloc("blk0", 2 * PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    for _ in 0..3 {
        registry
            .alloc("blk0", 4 * PAGE_SIZE, None, ALICE, &mut zeroer)
            .unwrap();
    }
    let token = registry.map_added(mapped.handle, ALICE).unwrap();
    let report = registry.release_all(ALICE);
    assert_eq!(
        report,
        ReleaseReport {
            freed_buffers: 3,
            freed_pages: 12,
            deferred_buffers: 1,
            deferred_pages: 2
        }
    );
    assert_eq!(registry.owner_usage(ALICE).live_pages, 0);
    assert_eq!(registry.release_all(ALICE), ReleaseReport::default());
    registry.map_removed(token).unwrap();
    assert_eq!(registry.owner_usage(ALICE), OwnerUsage::default());
    assert!(registry.buffer(kept.handle, BOB).is_ok());
    registry.check_invariants().unwrap();
}

#[test]
fn deferred_pages_stay_charged_to_the_quota() {
    let (mut registry, _) = registry_with_pool(16);
    let mut zeroer = RecordingZeroer::default();
    registry.set_owner_quota(ALICE, Some(4)).unwrap();
    let buffer = registry
        .alloc("blk0", 4 * PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    let token = registry.map_added(buffer.handle, ALICE).unwrap();
    registry.release(buffer.handle, ALICE).unwrap();
    assert_eq!(
        registry
            .alloc("blk0", PAGE_SIZE, None, ALICE, &mut zeroer)
            .unwrap_err(),
        PoolError::OverQuota
    );
    registry.map_removed(token).unwrap();
    registry
        .alloc("blk0", 4 * PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    registry.set_owner_quota(ALICE, None).unwrap();
    assert_eq!(registry.owner_usage(ALICE).quota_pages, None);
}

#[test]
fn statistics_follow_the_pool() {
    let (mut registry, _) = registry_with_pool(64);
    let mut zeroer = RecordingZeroer::default();
    let a = registry
        .alloc("blk0", 16 * PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    let b = registry
        .alloc("blk0", PAGE_SIZE, None, BOB, &mut zeroer)
        .unwrap();
    registry
        .alloc("blk0", 64 * PAGE_SIZE, None, BOB, &mut zeroer)
        .unwrap_err();
    let pool = registry.pool_for_device("blk0").unwrap();
    let stats = pool.stats();
    assert_eq!(
        (stats.total_pages, stats.free_pages, stats.live_buffers),
        (64, 47, 2)
    );
    assert_eq!((stats.high_water_pages, stats.failed_allocations), (17, 1));
    assert_eq!(
        (stats.largest_free_run_pages, stats.largest_free_block_pages),
        (32 + 15, 32)
    );
    assert_eq!(pool.owner_pages(ALICE), 16);
    assert_eq!(pool.owners().collect::<Vec<_>>(), [(ALICE, 16), (BOB, 1)]);
    registry.release(a.handle, ALICE).unwrap();
    registry.release(b.handle, BOB).unwrap();
    let stats = registry.pool_for_device("blk0").unwrap().stats();
    assert_eq!(
        (
            stats.free_pages,
            stats.largest_free_run_pages,
            stats.high_water_pages
        ),
        (64, 64, 17)
    );
}

#[test]
fn pools_are_declared_and_retired_at_run_time() {
    let (mut registry, first) = registry_with_pool(16);
    let carve = |registry: &mut PoolRegistry, device: &'static str, offset: u64| {
        let base = REGION_BASE + offset;
        registry.declare(&PoolDeclaration::new(
            "carved",
            device,
            base,
            base,
            1 << 20,
            CacheType::Uncached,
        ))
    };
    let second = carve(&mut registry, "net0", 1 << 20).unwrap();
    assert_eq!(
        registry.pool_by_index(second.index()).unwrap().device(),
        "net0"
    );
    assert_eq!(registry.pool(first).unwrap().device(), "blk0");
    assert_eq!(registry.retire("blk0"), Ok(first));
    assert!(registry.pool(first).is_none());
    // The slot is reused with a new serial; the old id stays dead.
    let third = carve(&mut registry, "gpu0", 0).unwrap();
    assert_eq!(third.index(), first.index());
    assert_ne!(third, first);
    assert!(registry.pool(first).is_none());
    assert_eq!(registry.pools().count(), 2);
}

#[test]
fn metadata_is_under_two_bits_per_page_at_four_gibibytes() {
    let mut registry = PoolRegistry::new();
    registry.add_reserved_region(1 << 40, 4 << 30).unwrap();
    let declaration = PoolDeclaration::new(
        "big",
        "big0",
        1 << 40,
        1 << 40,
        4 << 30,
        CacheType::WriteCombining,
    );
    registry.declare(&declaration).unwrap();
    let metadata = registry.pool_for_device("big0").unwrap().metadata();
    let pages = metadata.pages;
    assert_eq!(pages, 1 << 20);
    assert!(metadata.free_space_bytes + metadata.chunk_index_bytes <= pages / 4 + 4096);
    assert!(
        metadata.bits_per_page() < 1.7,
        "{} bits per page",
        metadata.bits_per_page()
    );
    assert_eq!(metadata.buffer_table_bytes, 4096 * 32);
}

#[test]
fn page_states_show_live_deferred_and_free_pages() {
    use dma_pool::PageState::{Deferred, Free, Live};
    let (mut registry, _) = registry_with_pool(16);
    let mut zeroer = RecordingZeroer::default();
    let kept = registry
        .alloc("blk0", 2 * PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    let released = registry
        .alloc("blk0", 4 * PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    registry.map_added(released.handle, ALICE).unwrap();
    registry.release(released.handle, ALICE).unwrap();
    let pool = registry.pool_for_device("blk0").unwrap();
    let states = pool.page_states();
    assert_eq!(states.len(), 16);
    let page = |phys: u64| ((phys - pool.phys_base()) / PAGE_SIZE) as usize;
    assert_eq!(&states[page(kept.phys)..page(kept.phys) + 2], [Live, Live]);
    assert_eq!(
        &states[page(released.phys)..page(released.phys) + 4],
        [Deferred; 4]
    );
    assert_eq!(states.iter().filter(|state| **state == Free).count(), 10);
    assert_eq!(
        states.iter().filter(|state| **state == Free).count() as u64,
        pool.stats().free_pages
    );
}
