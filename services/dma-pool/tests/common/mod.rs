//! Shared fixtures for the integration tests: a registry with pools, a recording zeroer and
//! a fingerprint of everything an observer can see.
#![allow(
    dead_code,
    reason = "each test file uses a different subset of the fixtures"
)]

use dma_pool::{
    BufferInfo, CacheType, FreeExtent, OwnerId, OwnerUsage, PoolDeclaration, PoolId, PoolRegistry,
    PoolStats, ReservedRegion, Zeroer, PAGE_SIZE,
};

/// Physical base of the reserved region the fixtures carve pools from.
pub const REGION_BASE: u64 = 0x8000_0000;
/// Size of that region: 64 MiB.
pub const REGION_SIZE: u64 = 64 << 20;
/// The first owner.
pub const ALICE: OwnerId = OwnerId(100);
/// Another owner.
pub const BOB: OwnerId = OwnerId(200);

/// Records every zeroing call.
#[derive(Default, Debug)]
pub struct RecordingZeroer {
    pub calls: Vec<(u64, u64)>,
}

impl Zeroer for RecordingZeroer {
    fn zero(&mut self, phys: u64, len: u64) {
        self.calls.push((phys, len));
    }
}

/// A registry with the reserved region and one pool of `pages` pages for `"blk0"` at the
/// region's start, device addresses offset by 1 GiB.
pub fn registry_with_pool(pages: u64) -> (PoolRegistry, PoolId) {
    let mut registry = PoolRegistry::new();
    registry
        .add_reserved_region(REGION_BASE, REGION_SIZE)
        .unwrap();
    let id = registry
        .declare(&PoolDeclaration::new(
            "blk0-pool",
            "blk0",
            REGION_BASE,
            REGION_BASE + (1 << 30),
            pages * PAGE_SIZE,
            CacheType::WriteCombining,
        ))
        .unwrap();
    (registry, id)
}

/// Everything observable about one pool except its failure counter.
#[derive(Debug, PartialEq)]
pub struct PoolFingerprint {
    pub id: PoolId,
    pub stats: PoolStats,
    pub extents: Vec<FreeExtent>,
    pub buffers: Vec<BufferInfo>,
    pub owners: Vec<(OwnerId, u64)>,
    pub device_quota: Option<u64>,
}

/// Everything observable about a registry except failure counters.
#[derive(Debug, PartialEq)]
pub struct Fingerprint {
    pub reserved: Vec<ReservedRegion>,
    pub pools: Vec<PoolFingerprint>,
    pub owners: Vec<(OwnerId, OwnerUsage)>,
}

/// Takes the fingerprint and checks the registry's invariants on the way.
pub fn fingerprint(registry: &PoolRegistry) -> Fingerprint {
    registry.check_invariants().unwrap();
    Fingerprint {
        reserved: registry.reserved_regions().collect(),
        pools: registry
            .pools()
            .map(|pool| PoolFingerprint {
                id: pool.id(),
                stats: PoolStats {
                    failed_allocations: 0,
                    ..pool.stats()
                },
                extents: pool.free_extents(),
                buffers: pool.buffers().collect(),
                owners: pool.owners().collect(),
                device_quota: pool.device_quota(),
            })
            .collect(),
        owners: registry.owners().collect(),
    }
}

/// The failure counter of `device`'s pool.
pub fn failed_allocations(registry: &PoolRegistry, device: &str) -> u64 {
    registry
        .pool_for_device(device)
        .unwrap()
        .stats()
        .failed_allocations
}

/// Runs `operation`, asserts it fails with `expected`, that the registry's fingerprint is
/// unchanged, and that the failure counters of all pools grew by `failures` in total.
pub fn assert_refused<T: std::fmt::Debug>(
    registry: &mut PoolRegistry,
    expected: dma_pool::PoolError,
    failures: u64,
    operation: impl FnOnce(&mut PoolRegistry) -> Result<T, dma_pool::PoolError>,
) {
    let before = fingerprint(registry);
    let failed_before: u64 = registry
        .pools()
        .map(|pool| pool.stats().failed_allocations)
        .sum();
    let result = operation(registry);
    assert_eq!(result.unwrap_err(), expected);
    assert_eq!(
        fingerprint(registry),
        before,
        "a refused request changed the registry"
    );
    let failed_after: u64 = registry
        .pools()
        .map(|pool| pool.stats().failed_allocations)
        .sum();
    assert_eq!(failed_after - failed_before, failures, "failure counter");
}
