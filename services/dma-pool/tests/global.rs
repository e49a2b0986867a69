//! The global coherent pool: at most one, own pools first, gone when retired.

mod common;

use common::*;
use dma_pool::{CacheType, PoolDeclaration, PoolError, PAGE_SIZE};

fn declare(registry: &mut dma_pool::PoolRegistry, name: &str, device: &str, offset: u64) {
    registry
        .declare(&PoolDeclaration::new(
            name,
            device,
            REGION_BASE + offset,
            REGION_BASE + offset,
            16 * PAGE_SIZE,
            CacheType::WriteCombining,
        ))
        .unwrap();
}

#[test]
fn devices_without_a_pool_are_served_by_the_global_pool() {
    let (mut registry, _) = registry_with_pool(16);
    assert_eq!(
        registry.pool_serving("net0").err(),
        Some(PoolError::UnknownDevice)
    );
    declare(&mut registry, "global", "(default)", 1 << 20);
    assert!(registry.global_pool().is_none());
    registry.set_global("(default)").unwrap();
    assert_eq!(registry.pool_serving("net0").unwrap().name(), "global");
    // A device's own pool comes first.
    assert_eq!(registry.pool_serving("blk0").unwrap().name(), "blk0-pool");
    let global = registry.global_pool().unwrap();
    assert!(registry.is_global(global));
    assert!(!registry.is_global(registry.pool_for_device("blk0").unwrap()));
}

#[test]
fn a_second_global_pool_is_refused_and_changes_nothing() {
    let (mut registry, _) = registry_with_pool(16);
    declare(&mut registry, "first", "a", 1 << 20);
    declare(&mut registry, "second", "b", 2 << 20);
    assert_eq!(registry.set_global("nobody"), Err(PoolError::UnknownDevice));
    registry.set_global("a").unwrap();
    // Setting the same pool again is harmless.
    registry.set_global("a").unwrap();
    assert!(matches!(
        registry.set_global("b"),
        Err(PoolError::InvalidRequest(_))
    ));
    assert_eq!(registry.global_pool().unwrap().name(), "first");
}

#[test]
fn retiring_the_global_pool_leaves_none() {
    let (mut registry, _) = registry_with_pool(16);
    declare(&mut registry, "global", "(default)", 1 << 20);
    registry.set_global("(default)").unwrap();
    registry.retire("(default)").unwrap();
    assert!(registry.global_pool().is_none());
    assert_eq!(
        registry.pool_serving("net0").err(),
        Some(PoolError::UnknownDevice)
    );
    // A new global pool may then be set.
    declare(&mut registry, "other", "c", 2 << 20);
    registry.set_global("c").unwrap();
    assert_eq!(registry.pool_serving("net0").unwrap().name(), "other");
}
