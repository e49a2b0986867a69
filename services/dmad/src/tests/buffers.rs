//! Allocation sizes and addresses, zeroing, mapping, deferred release, and exit reclaim.

use super::fixture::*;
use dma_api::{cache_type, DmaBufferInfo};
use dma_pool::PAGE_SIZE;

/// dmad's address of the buffer whose device address is `device_address`.
fn mapping_of(device_address: u64) -> u64 {
    MAPPING + (device_address - DEVICE_BASE)
}

#[test]
fn sizes_round_to_aligned_power_of_two_pages() {
    let mut fixture = Fixture::new();
    let cases = [
        ("blk0/alloc?size=1", 1),
        ("blk0/alloc?size=8192", 2),
        ("blk0/alloc?size=0x3000", 4),
        ("blk0/alloc?size=0x40000", 64),
        ("blk0/alloc?size=4096&align=0x10000", 1),
    ];
    for (path, pages) in cases {
        let (handle, info) = fixture.alloc(GREEDY, path).unwrap();
        let size = pages * PAGE_SIZE;
        let align = if path.contains("align") {
            0x10000
        } else {
            size
        };
        assert_eq!(info.size, size, "{path}");
        assert_eq!(info.cache_type, cache_type::WRITE_COMBINING);
        assert_eq!(info.device_address % align, 0, "{path}");
        // The device address is the physical address plus the pool's offset.
        let phys = info.device_address - DEVICE_BASE + PHYS;
        let buffer = fixture
            .server
            .registry()
            .pool_for_device("blk0")
            .unwrap()
            .buffers()
            .find(|buffer| buffer.device_address == info.device_address)
            .unwrap();
        assert_eq!(buffer.phys, phys);
        // Zeroed once, whole, through dmad's mapping.
        let address = mapping_of(info.device_address);
        assert_eq!(fixture.memory.zeroed.last(), Some(&(address, size)));
        let start = (address - MAPPING) as usize;
        assert!(fixture.memory.bytes[start..start + size as usize]
            .iter()
            .all(|&byte| byte == 0));
        // The whole buffer and its last page map at dmad's address of those bytes.
        assert_eq!(fixture.map(GREEDY, handle, 0, size), Ok(address));
        assert_eq!(
            fixture.map(GREEDY, handle, size - PAGE_SIZE, PAGE_SIZE),
            Ok(address + size - PAGE_SIZE)
        );
    }
    assert_eq!(fixture.memory.zeroed.len(), cases.len());
    let untouched = fixture
        .memory
        .bytes
        .iter()
        .filter(|&&byte| byte == GARBAGE)
        .count() as u64;
    assert_eq!(untouched, SIZE - (1 + 2 + 4 + 64 + 1) * PAGE_SIZE);
}

#[test]
fn reads_return_the_descriptor_each_time() {
    let mut fixture = Fixture::new();
    let (handle, info) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    let again = fixture.read(BLK, handle, 64).unwrap();
    assert_eq!(DmaBufferInfo::from_bytes(&again), Some(info));
    let call = fixture.request(
        syscall::schemev2::Opcode::Call,
        BLK,
        [handle, 0, 24, 0, 0, 0],
        &[],
    );
    assert_eq!(call.payload, info.to_bytes());
    assert_eq!(fixture.read(BLK, handle, 8).unwrap(), info.to_bytes()[..8]);
}

#[test]
fn close_while_mapped_defers_until_the_last_unmap() {
    let mut fixture = Fixture::new();
    let free = fixture.stats().free_pages;
    let (handle, info) = fixture.alloc(BLK, "blk0/alloc?size=0x4000").unwrap();
    fixture.map(BLK, handle, 0, 0x4000).unwrap();
    fixture.map(BLK, handle, 0x1000, 0x2000).unwrap();
    fixture.close(BLK, handle).unwrap();
    let stats = fixture.stats();
    assert_eq!(
        (
            stats.live_buffers,
            stats.deferred_buffers,
            stats.deferred_pages
        ),
        (0, 1, 4)
    );
    assert_eq!(stats.free_pages, free - 4);
    // Still charged to BLK's quota (8 pages): only 4 more fit.
    assert!(fixture.open(BLK, "blk0/alloc?size=0x8000").is_err());
    // Unmapping the second mapping in two pieces, then the first.
    fixture.unmap(BLK, handle, 0x1000, 0x1000).unwrap();
    fixture.unmap(BLK, handle, 0x2000, 0x1000).unwrap();
    assert_eq!(fixture.stats().deferred_buffers, 1);
    fixture.unmap(BLK, handle, 0, 0x4000).unwrap();
    let stats = fixture.stats();
    assert_eq!((stats.deferred_buffers, stats.free_pages), (0, free));
    assert!(fixture.server.registry().owners().next().is_none());
    let (_, again) = fixture.alloc(BLK, "blk0/alloc?size=0x8000").unwrap();
    assert_eq!(again.size, 0x8000);
    let _ = info;
}

#[test]
fn a_restarted_server_never_answers_its_predecessors_handle_numbers() {
    // Two dmads of one boot, as the program numbers them: from pid << 32.
    let mut old = Fixture::new();
    old.server.number_handles_from(2 << 32);
    let (held, _) = old.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    assert!(held >= 2 << 32);
    let mut new = Fixture::new();
    new.server.number_handles_from(99 << 32);
    let (fresh, _) = new.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    assert_ne!(held, fresh);
    // The old number is EBADF to the new server for every request, and a close of it
    // changes nothing.
    assert_eq!(new.read(BLK, held, 64).err(), Some(syscall::error::EBADF));
    assert_eq!(
        new.map(BLK, held, 0, 4096).err(),
        Some(syscall::error::EBADF)
    );
    let before = new.stats();
    assert_eq!(new.close(BLK, held), Err(syscall::error::EBADF));
    assert_eq!(new.stats(), before);
    assert!(new.read(BLK, fresh, 64).is_ok());
}

#[test]
fn reap_releases_everything_a_process_held() {
    let mut fixture = Fixture::new();
    let free = fixture.stats().free_pages;
    let (mapped, _) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    fixture.alloc(BLK, "blk0/alloc?size=8192").unwrap();
    fixture.map(BLK, mapped, 0, 4096).unwrap();
    fixture.server.reap(BLK as u32);
    let stats = fixture.stats();
    assert_eq!(
        (stats.live_buffers, stats.deferred_buffers, stats.free_pages),
        (0, 1, free - 1)
    );
    // The handle is gone, but the kernel's unmap still finds the mapping.
    assert!(fixture.read(BLK, mapped, 64).is_err());
    fixture.unmap(BLK, mapped, 0, 4096).unwrap();
    assert_eq!(fixture.stats().free_pages, free);
}

#[test]
fn a_region_for_several_devices_is_split() {
    let mut fixture = Fixture::new();
    let line =
        crate::MemoryPoolLine::parse("pool shared 0x90000000 0x90000000 0x6000 map net0,net1")
            .unwrap();
    fixture
        .server
        .add_memory_pool(&line, 0x20_0000_0000)
        .unwrap();
    let registry = fixture.server.registry();
    let net1 = registry.pool_for_device("net1").unwrap();
    assert_eq!(
        (net1.name(), net1.phys_base(), net1.size_bytes()),
        ("shared.net1", 0x9000_3000, 0x3000)
    );
    assert_eq!(
        registry.pool_for_device("net0").unwrap().phys_base(),
        0x9000_0000
    );
}

#[test]
fn a_region_s_cache_type_reaches_every_pool_carved_from_it() {
    let mut fixture = Fixture::new();
    let line = crate::MemoryPoolLine::parse(
        "pool cached 0x90000000 0x90000000 0x6000 map net0,net1 cache=wb",
    )
    .unwrap();
    fixture
        .server
        .add_memory_pool(&line, 0x20_0000_0000)
        .unwrap();
    let registry = fixture.server.registry();
    for device in ["net0", "net1"] {
        assert_eq!(
            registry.pool_for_device(device).unwrap().cache_type(),
            dma_pool::CacheType::WriteBack
        );
    }
    assert_eq!(
        registry.pool_for_device("blk0").unwrap().cache_type(),
        dma_pool::CacheType::WriteCombining
    );
}
