//! Small-block pool rows: 64-byte blocks (a PRP list's or descriptor's size) from a
//! [`BlockPool`] of 16 pages, empty and with half its blocks held, against the page
//! allocations a driver would make without it (one order-0 pair on the registry and on
//! Linux's bitmap, each in an empty 16 MiB pool; a real page allocation also costs a
//! request to dmad, which no host row includes).

use std::hint::black_box;

use dma_pool::blocks::BlockPool;
use dma_pool::PAGE_SIZE;

use crate::scenario::{build_linux, build_registry, Occupancy, XorShift, BASE, DEVICE, OWNER};
use crate::{measure, BlockRow};

/// Rows for 64-byte blocks, 64-byte aligned, no boundary, then with a 4 KiB boundary and
/// 3 KiB blocks (one per page).
pub fn rows() -> Vec<BlockRow> {
    let pages = (16u64 << 20) / PAGE_SIZE;
    let mut registry = build_registry(pages, Occupancy::Empty);
    let mut linux = build_linux(pages, Occupancy::Empty);
    let page_pool_ns = measure(|_| {
        let allocation = registry
            .alloc(DEVICE, PAGE_SIZE, None, OWNER, &mut |_, _| {})
            .unwrap();
        black_box(registry.release(allocation.handle, OWNER).is_ok())
    });
    let page_bitmap_ns = measure(|_| {
        let (_, device_address) = linux.alloc(PAGE_SIZE).unwrap();
        linux.release(0, black_box(device_address));
        true
    });
    let mut rows = Vec::new();
    for (block_bytes, boundary) in [(64u64, 0u64), (3072, 4096)] {
        for held in [false, true] {
            let mut pool = BlockPool::new(block_bytes, 64, boundary, PAGE_SIZE).unwrap();
            for page in 0..16 {
                let device = BASE + page * pool.page_bytes();
                pool.add_page(device, device).unwrap();
            }
            let total = pool.free_blocks();
            if held {
                // Hold a pseudo-random half of the blocks.
                let mut random = XorShift::new(0x5DEE_CE66_D1CE_4E5B);
                let all: Vec<u64> = std::iter::from_fn(|| pool.alloc())
                    .map(|block| block.device_address)
                    .collect();
                for address in all {
                    if random.next() & 1 == 0 {
                        pool.free(address).unwrap();
                    }
                }
            }
            let block_ns = measure(|_| match pool.alloc() {
                Some(block) => pool.free(black_box(block.device_address)).is_ok(),
                None => false,
            });
            rows.push(BlockRow {
                block_bytes,
                boundary,
                held: pool.used_blocks() as f64 / total as f64,
                block_ns,
                page_pool_ns,
                page_bitmap_ns,
            });
        }
    }
    rows
}
