//! Every refusal of an allocation, release, map check or mapping count, each leaving the
//! registry unchanged, never calling the zeroer, and counting only resource refusals.

mod common;

use common::*;
use dma_pool::{
    CacheType, OwnerId, OwnerUsage, PoolDeclaration, PoolError, PoolRegistry, PAGE_SIZE,
};

fn invalid(reason: &'static str) -> PoolError {
    PoolError::InvalidRequest(reason)
}

/// A registry whose 16-page pool holds one 4-page buffer of ALICE's at page 0.
fn with_buffer() -> (PoolRegistry, dma_pool::Allocation) {
    let (mut registry, _) = registry_with_pool(16);
    let buffer = registry
        .alloc(
            "blk0",
            4 * PAGE_SIZE,
            None,
            ALICE,
            &mut RecordingZeroer::default(),
        )
        .unwrap();
    (registry, buffer)
}

#[test]
fn alloc_malformed_requests() {
    let (mut registry, _) = with_buffer();
    let mut zeroer = RecordingZeroer::default();
    assert_refused(&mut registry, PoolError::UnknownDevice, 0, |registry| {
        registry.alloc("net0", 1, None, ALICE, &mut zeroer)
    });
    assert_refused(&mut registry, invalid("size is zero"), 0, |registry| {
        registry.alloc("blk0", 0, None, ALICE, &mut zeroer)
    });
    assert_refused(&mut registry, invalid("size overflows"), 0, |registry| {
        registry.alloc("blk0", u64::MAX, None, ALICE, &mut zeroer)
    });
    assert_refused(
        &mut registry,
        invalid("alignment is not a power of two"),
        0,
        |registry| registry.alloc("blk0", 1, Some(3 * PAGE_SIZE), ALICE, &mut zeroer),
    );
    assert_refused(
        &mut registry,
        invalid("alignment is not a power of two"),
        0,
        |registry| registry.alloc("blk0", 1, Some(0), ALICE, &mut zeroer),
    );
    // 17 pages round up to 32: more than the pool holds, ever.
    assert_refused(
        &mut registry,
        invalid("size exceeds the pool"),
        0,
        |registry| registry.alloc("blk0", 17 * PAGE_SIZE, None, ALICE, &mut zeroer),
    );
    assert!(zeroer.calls.is_empty());
}

#[test]
fn alloc_out_of_memory() {
    let (mut registry, _) = with_buffer();
    let mut zeroer = RecordingZeroer::default();
    // Pages 0..4 are taken, so no 16-page run exists; once 4..9 are taken too, no aligned
    // 8-page run does either (8..16 starts with a taken page).
    assert_refused(&mut registry, PoolError::OutOfMemory, 1, |registry| {
        registry.alloc("blk0", 16 * PAGE_SIZE, None, ALICE, &mut zeroer)
    });
    registry
        .alloc("blk0", 4 * PAGE_SIZE, None, BOB, &mut zeroer)
        .unwrap();
    let ninth = registry
        .alloc("blk0", PAGE_SIZE, None, BOB, &mut zeroer)
        .unwrap();
    assert_eq!(
        ninth.device_address,
        registry.pool_for_device("blk0").unwrap().device_base() + 8 * PAGE_SIZE
    );
    zeroer.calls.clear();
    assert_refused(&mut registry, PoolError::OutOfMemory, 1, |registry| {
        registry.alloc("blk0", 8 * PAGE_SIZE, None, ALICE, &mut zeroer)
    });
    // An alignment no address in the pool meets.
    assert_refused(&mut registry, PoolError::OutOfMemory, 1, |registry| {
        registry.alloc("blk0", PAGE_SIZE, Some(1 << 40), ALICE, &mut zeroer)
    });
    assert!(zeroer.calls.is_empty());
}

#[test]
fn alloc_with_full_buffer_table_or_owner_table() {
    let mut registry = PoolRegistry::with_owner_capacity(1);
    registry
        .add_reserved_region(REGION_BASE, REGION_SIZE)
        .unwrap();
    let declaration = PoolDeclaration::new(
        "p",
        "blk0",
        REGION_BASE,
        REGION_BASE,
        16 * PAGE_SIZE,
        CacheType::Uncached,
    )
    .with_buffer_capacity(2);
    registry.declare(&declaration).unwrap();
    let mut zeroer = RecordingZeroer::default();
    registry
        .alloc("blk0", PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    // BOB would be a second owner in a table for one.
    assert_refused(&mut registry, PoolError::OutOfMemory, 1, |registry| {
        registry.alloc("blk0", PAGE_SIZE, None, BOB, &mut zeroer)
    });
    registry
        .alloc("blk0", PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    // Two buffers fill a table of two, with 14 pages still free.
    assert_refused(&mut registry, PoolError::OutOfMemory, 1, |registry| {
        registry.alloc("blk0", PAGE_SIZE, None, ALICE, &mut zeroer)
    });
    assert_eq!(zeroer.calls.len(), 2);
}

/// An owner that released everything keeps an idle entry (so its next allocation does not
/// re-insert it), but the entry is invisible and gives its room to a new owner.
#[test]
fn idle_owner_entries_are_invisible_and_make_room() {
    let mut registry = PoolRegistry::with_owner_capacity(1);
    registry
        .add_reserved_region(REGION_BASE, REGION_SIZE)
        .unwrap();
    let declaration = PoolDeclaration::new(
        "p",
        "blk0",
        REGION_BASE,
        REGION_BASE,
        16 * PAGE_SIZE,
        CacheType::Uncached,
    );
    registry.declare(&declaration).unwrap();
    let mut zeroer = RecordingZeroer::default();
    for _ in 0..3 {
        let buffer = registry
            .alloc("blk0", PAGE_SIZE, None, ALICE, &mut zeroer)
            .unwrap();
        assert_eq!(registry.owners().count(), 1);
        registry.release(buffer.handle, ALICE).unwrap();
        assert_eq!(registry.owners().count(), 0);
        assert_eq!(registry.owner_usage(ALICE), OwnerUsage::default());
    }
    // ALICE's idle entry gives way to BOB, who then fills the table.
    let held = registry
        .alloc("blk0", PAGE_SIZE, None, BOB, &mut zeroer)
        .unwrap();
    assert_eq!(
        registry
            .owners()
            .map(|(owner, _)| owner)
            .collect::<Vec<_>>(),
        [BOB]
    );
    assert_refused(&mut registry, PoolError::OutOfMemory, 1, |registry| {
        registry.alloc("blk0", PAGE_SIZE, None, ALICE, &mut zeroer)
    });
    registry.check_invariants().unwrap();
    registry.release(held.handle, BOB).unwrap();
    registry
        .alloc("blk0", PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    registry.check_invariants().unwrap();
}

#[test]
fn alloc_over_owner_or_device_quota() {
    let (mut registry, _) = with_buffer();
    let mut zeroer = RecordingZeroer::default();
    registry.set_owner_quota(ALICE, Some(6)).unwrap();
    assert_refused(&mut registry, PoolError::OverQuota, 1, |registry| {
        registry.alloc("blk0", 4 * PAGE_SIZE, None, ALICE, &mut zeroer)
    });
    registry
        .alloc("blk0", 2 * PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    registry.set_device_quota("blk0", Some(8)).unwrap();
    assert_refused(&mut registry, PoolError::OverQuota, 1, |registry| {
        registry.alloc("blk0", 4 * PAGE_SIZE, None, BOB, &mut zeroer)
    });
    assert_eq!(zeroer.calls.len(), 1);
}

#[test]
fn release_foreign_stale_or_released() {
    let (mut registry, buffer) = with_buffer();
    assert_refused(&mut registry, PoolError::BadHandle, 0, |registry| {
        registry.release(buffer.handle, BOB)
    });
    let token = registry.map_added(buffer.handle, ALICE).unwrap();
    registry.release(buffer.handle, ALICE).unwrap();
    // Released but still mapped: the handle is dead for its owner.
    assert_refused(&mut registry, PoolError::BadHandle, 0, |registry| {
        registry.release(buffer.handle, ALICE)
    });
    registry.map_removed(token).unwrap();
    // Freed: a double release.
    assert_refused(&mut registry, PoolError::BadHandle, 0, |registry| {
        registry.release(buffer.handle, ALICE)
    });
    // The same size again gets the same pages and the same (parked) record, whose
    // generation moved on: the old handle no longer matches.
    let mut zeroer = RecordingZeroer::default();
    let reused = registry
        .alloc("blk0", 4 * PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    assert_eq!(reused.handle.slot(), buffer.handle.slot());
    assert_eq!(reused.device_address, buffer.device_address);
    assert_ne!(reused.handle, buffer.handle);
    registry.check_invariants().unwrap();
    assert_refused(&mut registry, PoolError::BadHandle, 0, |registry| {
        registry.release(buffer.handle, ALICE)
    });
}

#[test]
fn release_address_not_the_start_of_a_live_buffer() {
    let (mut registry, buffer) = with_buffer();
    let start = buffer.device_address;
    for address in [
        start + PAGE_SIZE,
        start + 1,
        start + 8 * PAGE_SIZE,
        start - PAGE_SIZE,
        start + (1 << 30),
        0,
    ] {
        assert_refused(&mut registry, PoolError::BadHandle, 0, |registry| {
            registry.release_address("blk0", address, ALICE)
        });
    }
    assert_refused(&mut registry, PoolError::BadHandle, 0, |registry| {
        registry.release_address("blk0", start, BOB)
    });
    assert_refused(&mut registry, PoolError::UnknownDevice, 0, |registry| {
        registry.release_address("net0", start, ALICE)
    });
    registry.release_address("blk0", start, ALICE).unwrap();
    assert_refused(&mut registry, PoolError::BadHandle, 0, |registry| {
        registry.release_address("blk0", start, ALICE)
    });
}

#[test]
fn check_map_refusals() {
    let (mut registry, buffer) = with_buffer();
    let handle = buffer.handle;
    let size = buffer.size_bytes;
    let cases = [
        (1, PAGE_SIZE, invalid("mapping not page-aligned")),
        (0, PAGE_SIZE + 1, invalid("mapping not page-aligned")),
        (0, 0, invalid("empty mapping")),
        (
            PAGE_SIZE,
            size,
            invalid("mapping past the end of the buffer"),
        ),
        (
            size,
            PAGE_SIZE,
            invalid("mapping past the end of the buffer"),
        ),
        (
            u64::MAX - PAGE_SIZE + 1,
            2 * PAGE_SIZE,
            invalid("mapping past the end of the buffer"),
        ),
        (
            PAGE_SIZE,
            u64::MAX - PAGE_SIZE + 1,
            invalid("mapping past the end of the buffer"),
        ),
    ];
    for (offset, len, expected) in cases {
        assert_refused(&mut registry, expected, 0, |registry| {
            registry.check_map(handle, ALICE, offset, len)
        });
    }
    assert_refused(&mut registry, PoolError::BadHandle, 0, |registry| {
        registry.check_map(handle, BOB, 0, PAGE_SIZE)
    });
    let whole = registry.check_map(handle, ALICE, 0, size).unwrap();
    assert_eq!((whole.phys, whole.len), (buffer.phys, size));
}

#[test]
fn mapping_count_refusals() {
    let (mut registry, buffer) = with_buffer();
    assert_refused(&mut registry, PoolError::BadHandle, 0, |registry| {
        registry.map_added(buffer.handle, BOB)
    });
    let token = registry.map_added(buffer.handle, ALICE).unwrap();
    registry.map_removed(token).unwrap();
    // No mapping left to remove.
    assert_refused(&mut registry, PoolError::BadHandle, 0, |registry| {
        registry.map_removed(token)
    });
    registry.release(buffer.handle, ALICE).unwrap();
    // Freed buffer: stale handle and stale token.
    assert_refused(&mut registry, PoolError::BadHandle, 0, |registry| {
        registry.map_added(buffer.handle, ALICE)
    });
    assert_refused(&mut registry, PoolError::BadHandle, 0, |registry| {
        registry.map_removed(token)
    });
    assert_refused(&mut registry, PoolError::BadHandle, 0, |registry| {
        registry.buffer(buffer.handle, ALICE)
    });
}

#[test]
fn owners_are_opaque() {
    // Owner ids are compared, never interpreted: zero and the maximum work like any other.
    let (mut registry, _) = registry_with_pool(16);
    let mut zeroer = RecordingZeroer::default();
    for owner in [OwnerId(0), OwnerId(u32::MAX)] {
        let buffer = registry
            .alloc("blk0", PAGE_SIZE, None, owner, &mut zeroer)
            .unwrap();
        assert_refused(&mut registry, PoolError::BadHandle, 0, |registry| {
            registry.release(buffer.handle, ALICE)
        });
        registry.release(buffer.handle, owner).unwrap();
    }
}
