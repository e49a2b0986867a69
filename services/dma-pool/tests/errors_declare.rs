//! Every refusal of a reserved region, declaration, retirement or quota change, each leaving
//! the registry unchanged.

mod common;

use common::*;
use dma_pool::{CacheType, PoolDeclaration, PoolError, PoolRegistry, PAGE_SIZE};

fn declaration(phys_base: u64, device_base: u64, size_bytes: u64) -> PoolDeclaration<'static> {
    PoolDeclaration::new(
        "net0-pool",
        "net0",
        phys_base,
        device_base,
        size_bytes,
        CacheType::WriteCombining,
    )
}

fn invalid(reason: &'static str) -> PoolError {
    PoolError::InvalidRequest(reason)
}

#[test]
fn reserved_region_refusals() {
    let (mut registry, _) = registry_with_pool(16);
    assert_refused(&mut registry, invalid("size is zero"), 0, |registry| {
        registry.add_reserved_region(0x1000, 0)
    });
    assert_refused(
        &mut registry,
        invalid("base or size not page-aligned"),
        0,
        |registry| registry.add_reserved_region(0x1001, PAGE_SIZE),
    );
    assert_refused(
        &mut registry,
        invalid("base or size not page-aligned"),
        0,
        |registry| registry.add_reserved_region(0x1000, 100),
    );
    assert_refused(
        &mut registry,
        invalid("range wraps around the address space"),
        0,
        |registry| registry.add_reserved_region(u64::MAX - PAGE_SIZE + 1, 2 * PAGE_SIZE),
    );
    assert_refused(
        &mut registry,
        invalid("reserved region overlaps another"),
        0,
        |registry| {
            registry.add_reserved_region(REGION_BASE + REGION_SIZE - PAGE_SIZE, 4 * PAGE_SIZE)
        },
    );
}

#[test]
fn declare_zero_size() {
    let (mut registry, _) = registry_with_pool(16);
    let base = REGION_BASE + (1 << 20);
    assert_refused(&mut registry, invalid("size is zero"), 0, |registry| {
        registry.declare(&declaration(base, base, 0))
    });
}

#[test]
fn declare_unaligned() {
    let (mut registry, _) = registry_with_pool(16);
    let base = REGION_BASE + (1 << 20);
    let misaligned = invalid("base or size not page-aligned");
    assert_refused(&mut registry, misaligned, 0, |registry| {
        registry.declare(&declaration(base + 8, base, PAGE_SIZE))
    });
    assert_refused(&mut registry, misaligned, 0, |registry| {
        registry.declare(&declaration(base, base, PAGE_SIZE + 8))
    });
    assert_refused(
        &mut registry,
        invalid("device base not page-aligned"),
        0,
        |registry| registry.declare(&declaration(base, base + 8, PAGE_SIZE)),
    );
}

#[test]
fn declare_overflow_on_either_side() {
    let (mut registry, _) = registry_with_pool(16);
    let base = REGION_BASE + (1 << 20);
    let top = u64::MAX - PAGE_SIZE + 1;
    assert_refused(
        &mut registry,
        invalid("range wraps around the address space"),
        0,
        |registry| registry.declare(&declaration(top, base, 2 * PAGE_SIZE)),
    );
    assert_refused(
        &mut registry,
        invalid("device range wraps around the address space"),
        0,
        |registry| registry.declare(&declaration(base, top, 2 * PAGE_SIZE)),
    );
}

#[test]
fn declare_overlapping_another_pool() {
    let (mut registry, _) = registry_with_pool(16);
    // blk0 holds the region's first 16 pages; this one starts in its last page.
    let start = REGION_BASE + 15 * PAGE_SIZE;
    assert_refused(
        &mut registry,
        invalid("pool overlaps another pool"),
        0,
        |registry| registry.declare(&declaration(start, start, 4 * PAGE_SIZE)),
    );
}

#[test]
fn declare_outside_every_reserved_region() {
    let (mut registry, _) = registry_with_pool(16);
    let outside = REGION_BASE + REGION_SIZE;
    assert_refused(
        &mut registry,
        invalid("pool outside every reserved region"),
        0,
        |registry| registry.declare(&declaration(outside, outside, PAGE_SIZE)),
    );
    // Straddling the region's end is outside too.
    let straddle = outside - PAGE_SIZE;
    assert_refused(
        &mut registry,
        invalid("pool outside every reserved region"),
        0,
        |registry| registry.declare(&declaration(straddle, straddle, 2 * PAGE_SIZE)),
    );
}

#[test]
fn declare_for_a_device_that_has_a_pool() {
    let (mut registry, _) = registry_with_pool(16);
    let base = REGION_BASE + (1 << 20);
    let mut second = declaration(base, base, PAGE_SIZE);
    second.device = "blk0";
    assert_refused(
        &mut registry,
        invalid("device already has a pool"),
        0,
        |registry| registry.declare(&second),
    );
}

#[test]
fn declare_with_bad_names_or_capacity() {
    let (mut registry, _) = registry_with_pool(16);
    let base = REGION_BASE + (1 << 20);
    let mut unnamed = declaration(base, base, PAGE_SIZE);
    unnamed.device = "";
    assert_refused(
        &mut registry,
        invalid("pool and device names must not be empty"),
        0,
        |registry| registry.declare(&unnamed),
    );
    let no_buffers = declaration(base, base, PAGE_SIZE).with_buffer_capacity(0);
    assert_refused(
        &mut registry,
        invalid("buffer capacity is zero"),
        0,
        |registry| registry.declare(&no_buffers),
    );
}

#[test]
fn declare_larger_than_sixteen_tebibytes() {
    let mut registry = PoolRegistry::new();
    registry.add_reserved_region(0, 1 << 50).unwrap();
    assert_refused(
        &mut registry,
        invalid("pool larger than 16 TiB"),
        0,
        |registry| registry.declare(&declaration(0, 0, (1 << 44) + PAGE_SIZE)),
    );
}

#[test]
fn retire_unknown_or_busy() {
    let (mut registry, _) = registry_with_pool(16);
    assert_refused(&mut registry, PoolError::UnknownDevice, 0, |registry| {
        registry.retire("net0")
    });
    let mut zeroer = RecordingZeroer::default();
    let buffer = registry
        .alloc("blk0", PAGE_SIZE, None, ALICE, &mut zeroer)
        .unwrap();
    assert_refused(&mut registry, PoolError::Busy, 0, |registry| {
        registry.retire("blk0")
    });
    // Released but still mapped: still busy.
    let token = registry.map_added(buffer.handle, ALICE).unwrap();
    registry.release(buffer.handle, ALICE).unwrap();
    assert_refused(&mut registry, PoolError::Busy, 0, |registry| {
        registry.retire("blk0")
    });
    registry.map_removed(token).unwrap();
    registry.retire("blk0").unwrap();
    // The retired pool's handles are stale.
    assert_refused(&mut registry, PoolError::BadHandle, 0, |registry| {
        registry.release(buffer.handle, ALICE)
    });
}

#[test]
fn quota_changes_for_unknown_device_or_full_owner_table() {
    let (mut registry, _) = registry_with_pool(16);
    assert_refused(&mut registry, PoolError::UnknownDevice, 0, |registry| {
        registry.set_device_quota("net0", Some(1))
    });
    let mut small = PoolRegistry::with_owner_capacity(1);
    small.set_owner_quota(ALICE, Some(4)).unwrap();
    assert_refused(&mut small, PoolError::OutOfMemory, 0, |registry| {
        registry.set_owner_quota(BOB, Some(4))
    });
}

#[test]
fn errors_name_their_errno() {
    let names: Vec<&str> = [
        PoolError::UnknownDevice,
        PoolError::InvalidRequest("x"),
        PoolError::OutOfMemory,
        PoolError::NotGranted,
        PoolError::OverQuota,
        PoolError::BadHandle,
        PoolError::Busy,
    ]
    .iter()
    .map(|error| error.errno_name())
    .collect();
    assert_eq!(
        names,
        ["ENOENT", "EINVAL", "ENOMEM", "EACCES", "EDQUOT", "EBADF", "EBUSY"]
    );
    assert_eq!(
        PoolError::InvalidRequest("size is zero").to_string(),
        "size is zero (EINVAL)"
    );
}
