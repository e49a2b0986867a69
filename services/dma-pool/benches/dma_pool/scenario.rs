//! The benchmark's pool states and request stream, built identically for both allocators.

use dma_pool::{
    BufferHandle, CacheType, OwnerId, PageAllocator, PoolDeclaration, PoolRegistry, PAGE_SHIFT,
    PAGE_SIZE,
};

use crate::linux_bitmap::LinuxCoherentPool;

/// Where both pools start, physically and for the device (aligned beyond any pool size).
pub const BASE: u64 = 1 << 40;
/// The device the bench pool serves.
pub const DEVICE: &str = "bench0";
/// The one owner.
pub const OWNER: OwnerId = OwnerId(1);

/// A tiny xorshift64 generator with a fixed seed.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// How full the pools start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Occupancy {
    Empty,
    /// The whole pool in blocks of 1..8 pages, then a pseudo-random half freed.
    Fragmented,
}

/// The fill plan for a fragmented pool: `(first_page, order)` of each block, in address
/// order, tiling the pool, each block aligned to its size; and which blocks stay allocated.
pub fn fragmented_plan(pages: u64) -> (Vec<(u64, u32)>, Vec<bool>) {
    let mut random = XorShift::new(0x2545_F491_4F6C_DD1D);
    let mut blocks = Vec::new();
    let mut page = 0;
    while page < pages {
        let alignment = if page == 0 {
            3
        } else {
            page.trailing_zeros().min(3)
        };
        let order = ((random.next() % 4) as u32).min(alignment);
        blocks.push((page, order));
        page += 1 << order;
    }
    let kept = blocks.iter().map(|_| random.next() & 1 == 0).collect();
    (blocks, kept)
}

/// The coherent pool under test, in the given state.
pub fn build_registry(pages: u64, occupancy: Occupancy) -> PoolRegistry {
    let mut registry = PoolRegistry::new();
    registry
        .add_reserved_region(BASE, pages * PAGE_SIZE)
        .unwrap();
    let declaration = PoolDeclaration::new(
        "bench",
        DEVICE,
        BASE,
        BASE,
        pages * PAGE_SIZE,
        CacheType::WriteCombining,
    )
    .with_buffer_capacity(pages as u32);
    registry.declare(&declaration).unwrap();
    if occupancy == Occupancy::Fragmented {
        let (blocks, kept) = fragmented_plan(pages);
        let mut handles: Vec<BufferHandle> = Vec::with_capacity(blocks.len());
        for &(page, order) in &blocks {
            let allocation = registry
                .alloc(DEVICE, PAGE_SIZE << order, None, OWNER, &mut |_, _| {})
                .unwrap();
            assert_eq!(
                allocation.device_address,
                BASE + page * PAGE_SIZE,
                "fill placed differently from the plan"
            );
            handles.push(allocation.handle);
        }
        for (handle, keep) in handles.into_iter().zip(kept) {
            if !keep {
                registry.release(handle, OWNER).unwrap();
            }
        }
    }
    registry
}

/// The pool's free-space allocator alone, in the given state (the same plan).
pub fn build_core(pages: u64, occupancy: Occupancy) -> PageAllocator {
    let mut core = PageAllocator::new(BASE >> PAGE_SHIFT, pages);
    if occupancy == Occupancy::Fragmented {
        let (blocks, kept) = fragmented_plan(pages);
        for &(page, order) in &blocks {
            assert_eq!(
                core.allocate(order, order),
                Some(page),
                "fill placed differently from the plan"
            );
        }
        for (&(page, order), keep) in blocks.iter().zip(kept) {
            if !keep {
                core.release(page, order);
            }
        }
    }
    core
}

/// Linux's pool in the given state. The fill sets the planned bits directly: the plan is
/// what Linux's first fit produces for that request sequence, which small pools check by
/// running the real search.
pub fn build_linux(pages: u64, occupancy: Occupancy) -> LinuxCoherentPool {
    let mut linux = LinuxCoherentPool::new(BASE, BASE, pages as u32);
    if occupancy == Occupancy::Fragmented {
        let (blocks, kept) = fragmented_plan(pages);
        let verify = pages <= 4096;
        for &(page, order) in &blocks {
            if verify {
                assert_eq!(
                    linux.find_free_region(order),
                    Some(page as u32),
                    "Linux's first fit differs from the plan"
                );
            } else {
                linux.set(page as u32, 1 << order);
            }
        }
        for (&(page, order), keep) in blocks.iter().zip(kept) {
            if !keep {
                linux.release_region(page as u32, order);
            }
        }
    }
    linux
}

/// The timed request stream: orders 0..=8, uniformly, from a fixed seed.
pub fn request_orders() -> Vec<u32> {
    let mut random = XorShift::new(0x9E37_79B9_7F4A_7C15);
    (0..4096).map(|_| (random.next() % 9) as u32).collect()
}
