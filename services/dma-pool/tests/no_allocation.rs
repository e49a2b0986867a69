//! Proves the allocate, release, map and unmap paths never touch the heap, by counting the
//! global allocator's calls around them.
//!
//! This test binary installs a counting global allocator; implementing `GlobalAlloc` takes
//! `unsafe`, which the library itself forbids. The allocator only forwards to `System`, and
//! counts only on the thread that asked (the test harness allocates on its own threads).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use dma_pool::{CacheType, OwnerId, PoolDeclaration, PoolRegistry, PAGE_SIZE};

/// Forwards to the system allocator, counting allocations and reallocations.
struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Whether this thread's allocations are counted.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

/// Counts one allocation if this thread is counting.
fn count() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// caller's guarantees are passed on intact; the counter is a relaxed atomic.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract for `layout`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` came from this allocator, hence from `System`, with `layout`.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

#[test]
fn allocate_release_map_and_reclaim_do_not_allocate() {
    let mut registry = PoolRegistry::new();
    registry.add_reserved_region(1 << 32, 64 << 20).unwrap();
    let declaration = PoolDeclaration::new(
        "p",
        "blk0",
        1 << 32,
        1 << 32,
        64 << 20,
        CacheType::WriteCombining,
    )
    .with_buffer_capacity(16384);
    registry.declare(&declaration).unwrap();
    let mut zeroed = 0u64;
    let mut zeroer = |_phys: u64, len: u64| zeroed += len;
    let mut handles = [None; 512];
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    COUNTING.with(|counting| counting.set(true));
    for round in 0..20_000u64 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let slot = (seed % 512) as usize;
        let owner = OwnerId((seed >> 20) as u32 % 200);
        match handles[slot].take() {
            Some((handle, owner)) => {
                if round % 3 == 0 {
                    let token = registry.map_added(handle, owner).unwrap();
                    registry.check_map(handle, owner, 0, PAGE_SIZE).unwrap();
                    registry.release(handle, owner).unwrap();
                    registry.map_removed(token).unwrap();
                } else {
                    registry.release(handle, owner).unwrap();
                }
            }
            None => {
                let size = PAGE_SIZE << ((seed >> 40) % 9);
                if let Ok(allocation) = registry.alloc("blk0", size, None, owner, &mut zeroer) {
                    handles[slot] = Some((allocation.handle, owner));
                }
            }
        }
    }
    for owner in 0..200 {
        registry.release_all(OwnerId(owner));
    }
    COUNTING.with(|counting| counting.set(false));
    assert_eq!(
        ALLOCATIONS.load(Ordering::Relaxed),
        0,
        "the hot paths allocated"
    );
    assert!(zeroed > 0);
}
