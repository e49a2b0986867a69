//! The global coherent pool: who it serves, the errnos around it, and how tables show it.

use super::fixture::*;
use dma_api::DmaError;

#[test]
fn a_granted_device_without_a_pool_allocates_from_the_default_pool() {
    let mut fixture = Fixture::with_default_pool();
    let (_, info) = fixture.alloc(GREEDY, "net0/alloc?size=0x2000").unwrap();
    assert!(
        (DEFAULT_PHYS..DEFAULT_PHYS + SIZE).contains(&info.device_address),
        "{:#x}",
        info.device_address
    );
    assert_eq!(info.size, 0x2000);
    // Zeroed through the global region's mapping.
    let start = (info.device_address - PHYS) as usize;
    assert!(fixture.memory.bytes[start..start + 0x2000]
        .iter()
        .all(|byte| *byte == 0));
    // A device with its own pool still uses it.
    let (_, own) = fixture.alloc(GREEDY, "blk0/alloc?size=0x1000").unwrap();
    assert!((DEVICE_BASE..DEVICE_BASE + SIZE).contains(&own.device_address));
}

#[test]
fn errnos_around_the_default_pool() {
    let mut fixture = Fixture::with_default_pool();
    // Known (granted to greedy) but not to this caller.
    assert_eq!(
        fixture.open(BLK, "net0/alloc?size=4096"),
        errno(DmaError::NotGranted)
    );
    // Neither a pool nor granted to anyone: unknown, even with a default pool.
    assert_eq!(
        fixture.open(GREEDY, "ghost/alloc?size=4096"),
        errno(DmaError::UnknownDevice)
    );
    assert_eq!(
        fixture.open(OTHER, "ghost/stats"),
        errno(DmaError::UnknownDevice)
    );
    // Without a default pool a device with no pool is unknown, granted or not.
    let mut plain = Fixture::new();
    assert_eq!(
        plain.open(GREEDY, "net0/alloc?size=4096"),
        errno(DmaError::UnknownDevice)
    );
}

#[test]
fn tables_mark_the_default_pool_and_say_who_served_a_device() {
    let mut fixture = Fixture::with_default_pool();
    fixture.alloc(GREEDY, "net0/alloc?size=0x1000").unwrap();
    let root = fixture.open(OTHER, "").unwrap();
    let text = fixture.read_text(OTHER, root, 4096);
    let kind = |pool: &str| {
        text.lines()
            .find(|line| line.split_whitespace().next() == Some(pool))
            .and_then(|line| line.split_whitespace().last())
            .unwrap()
            .to_owned()
    };
    assert_eq!(kind("global"), "default", "{text}");
    assert_eq!(kind("blk0-pool"), "own", "{text}");
    let stats = fixture.open(OTHER, "net0/stats").unwrap();
    let text = fixture.read_text(OTHER, stats, 4096);
    assert!(text.contains("\nserved-by global default\n"), "{text}");
    assert!(text.contains("\nlive-buffers 1\n"), "{text}");
    let stats = fixture.open(OTHER, "blk0/stats").unwrap();
    let text = fixture.read_text(OTHER, stats, 4096);
    assert!(text.contains("\nserved-by blk0-pool own\n"), "{text}");
}

#[test]
fn a_second_default_pool_serves_only_its_own_device() {
    let mut fixture = Fixture::with_default_pool();
    let line = crate::MemoryPoolLine::parse(
        "pool second 0x90000000 0x90000000 0x100000 map other0 default",
    )
    .unwrap();
    fixture
        .server
        .add_memory_pool(&line, MAPPING + 2 * SIZE)
        .unwrap();
    let registry = fixture.server.registry();
    assert_eq!(registry.global_pool().unwrap().name(), "global");
    assert_eq!(registry.pool_for_device("other0").unwrap().name(), "second");
}

#[test]
fn the_map_draws_a_device_pool_with_its_live_pages() {
    let mut fixture = Fixture::with_default_pool();
    fixture.alloc(GREEDY, "net0/alloc?size=0x2000").unwrap();
    let map = fixture.open(OTHER, "net0/map").unwrap();
    let text = fixture.read_text(OTHER, map, 4096);
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("pool "), "{text}");
    let scale = lines.next().unwrap();
    assert!(
        scale.starts_with("pages ") && scale.contains("1 cell = "),
        "{text}"
    );
    let grid: String = lines
        .clone()
        .take_while(|line| !line.starts_with(". free"))
        .collect();
    assert!(grid.contains('#'), "{text}");
    assert!(grid.contains('.'), "{text}");
    assert!(text.contains(dma_pool::page_map::LEGEND));
    assert_eq!(
        fixture.open(OTHER, "ghost/map"),
        errno(DmaError::UnknownDevice)
    );
}
