//! Small-block pools against a model: the set of blocks handed out, checked for overlap,
//! alignment, boundary, page membership and CPU/device agreement; double and foreign frees
//! refused without effect; everything returned at the end.

use std::collections::BTreeMap;

use dma_pool::blocks::{Block, BlockError, BlockPool};
use proptest::prelude::*;

const PAGE: u64 = 4096;
/// Where the test "maps" pages: CPU address = device address + this.
const CPU_OFFSET: u64 = 0x7000_0000_0000;

#[derive(Clone, Debug)]
enum Step {
    Alloc,
    Free(usize),
    FreeTwice(usize),
    FreeForeign(u64),
    AddPage(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => Just(Step::Alloc),
        4 => any::<usize>().prop_map(Step::Free),
        1 => any::<usize>().prop_map(Step::FreeTwice),
        1 => any::<u64>().prop_map(Step::FreeForeign),
        1 => (0u64..64).prop_map(Step::AddPage),
    ]
}

/// (size, align, boundary): boundary 0 or a power of two at least the block size.
fn shape() -> impl Strategy<Value = (u64, u64, u64)> {
    (
        1u64..9000,
        0u32..9,
        prop_oneof![Just(None), (0u32..15).prop_map(Some)],
    )
        .prop_map(|(size, align_shift, boundary_shift)| {
            let align = 1u64 << align_shift;
            let block = size.next_multiple_of(align);
            let boundary =
                boundary_shift.map_or(0, |shift| (1u64 << shift).max(block.next_power_of_two()));
            (size, align, boundary)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn matches_the_model((size, align, boundary) in shape(), steps in prop::collection::vec(step(), 1..120)) {
        let mut pool = BlockPool::new(size, align, boundary, PAGE).unwrap();
        let block = pool.block_size();
        let page_bytes = pool.page_bytes();
        prop_assert!(block >= size && block.is_multiple_of(align));
        prop_assert!(page_bytes.is_power_of_two() && page_bytes >= PAGE && page_bytes >= block);
        let mut pages: Vec<u64> = Vec::new();
        // Live blocks by device address; freed ones remembered for double frees.
        let mut live: BTreeMap<u64, Block> = BTreeMap::new();
        let mut freed: Vec<u64> = Vec::new();
        for step in steps {
            match step {
                Step::AddPage(slot) => {
                    let device = (slot + 1) * page_bytes;
                    let result = pool.add_page(device, device + CPU_OFFSET);
                    if pages.contains(&device) {
                        prop_assert_eq!(result, Err(BlockError::Invalid("page added twice")));
                    } else {
                        prop_assert_eq!(result, Ok(()));
                        pages.push(device);
                    }
                    // A misaligned page is refused.
                    prop_assert!(pool.add_page(device + page_bytes / 2, 0).is_err());
                }
                Step::Alloc => {
                    let capacity = pages.len() * pool.blocks_per_page();
                    match pool.alloc() {
                        None => prop_assert_eq!(live.len(), capacity, "refused with room left"),
                        Some(got) => {
                            let d = got.device_address;
                            prop_assert!(live.len() < capacity);
                            prop_assert_eq!(got.cpu_address, d + CPU_OFFSET);
                            prop_assert!(d.is_multiple_of(align), "misaligned block");
                            let page = pages.iter().find(|&&p| p <= d && d < p + page_bytes);
                            prop_assert!(page.is_some_and(|&p| d + block <= p + page_bytes), "block outside its page");
                            if let Some(window) = d.checked_div(boundary) {
                                prop_assert_eq!(window, (d + block - 1) / boundary, "block crosses the boundary");
                            }
                            // No overlap with the neighbours on either side.
                            if let Some((&below, _)) = live.range(..d).next_back() {
                                prop_assert!(below + block <= d, "overlaps the block below");
                            }
                            if let Some((&above, _)) = live.range(d..).next() {
                                prop_assert!(d + block <= above, "overlaps the block above");
                            }
                            live.insert(d, got);
                            freed.retain(|&f| f != d);
                        }
                    }
                }
                Step::Free(pick) => {
                    if live.is_empty() { continue; }
                    let d = *live.keys().nth(pick % live.len()).unwrap();
                    prop_assert_eq!(pool.free(d), Ok(()));
                    live.remove(&d);
                    freed.push(d);
                }
                Step::FreeTwice(pick) => {
                    if freed.is_empty() { continue; }
                    let d = freed[pick % freed.len()];
                    let before = pool.free_blocks();
                    prop_assert_eq!(pool.free(d), Err(BlockError::DoubleFree));
                    prop_assert_eq!(pool.free_blocks(), before);
                }
                Step::FreeForeign(address) => {
                    // Either no block of the pool starts there, or it is one: pick a
                    // non-block address by moving off a block start when needed.
                    let address = if live.contains_key(&address) || freed.contains(&address) { address ^ 1 } else { address };
                    let in_pool_block = live.contains_key(&address) || freed.contains(&address);
                    if !in_pool_block {
                        let before = pool.free_blocks();
                        let result = pool.free(address);
                        // A never-allocated block start of a page is a real block: free already.
                        prop_assert!(matches!(result, Err(BlockError::NotFromPool) | Err(BlockError::DoubleFree)));
                        prop_assert_eq!(pool.free_blocks(), before);
                    }
                }
            }
            prop_assert_eq!(pool.used_blocks(), live.len() as u64);
        }
        // Everything returned: every block of every page is free and can be handed out again.
        for d in live.keys().copied().collect::<Vec<_>>() {
            prop_assert_eq!(pool.free(d), Ok(()));
        }
        let capacity = pages.len() * pool.blocks_per_page();
        prop_assert_eq!(pool.free_blocks(), capacity as u64);
        let mut again = std::collections::BTreeSet::new();
        while let Some(got) = pool.alloc() {
            prop_assert!(again.insert(got.device_address), "a block handed out twice");
        }
        prop_assert_eq!(again.len(), capacity);
    }
}

/// Linux's classic use: 64-byte descriptors in 4 KiB pages, and PRP-list-like blocks that
/// must not cross a 4 KiB boundary inside larger pages.
#[test]
fn layouts() {
    let pool = BlockPool::new(64, 64, 0, PAGE).unwrap();
    assert_eq!(
        (pool.block_size(), pool.page_bytes(), pool.blocks_per_page()),
        (64, 4096, 64)
    );
    // 3000-byte blocks, boundary 4 KiB, in 4 KiB pages: one per page.
    let pool = BlockPool::new(3000, 8, 4096, PAGE).unwrap();
    assert_eq!(pool.blocks_per_page(), 1);
    // 3000-byte blocks in 8 KiB pages (boundary 8 KiB): two fit without a boundary in the way.
    let pool = BlockPool::new(3000, 8, 0, 8192).unwrap();
    assert_eq!(pool.blocks_per_page(), 2);
    // 1536-byte blocks with a 2 KiB boundary: one per 2 KiB.
    let pool = BlockPool::new(1536, 512, 2048, PAGE).unwrap();
    assert_eq!(pool.blocks_per_page(), 2);
    assert!(matches!(
        BlockPool::new(0, 8, 0, PAGE),
        Err(BlockError::Invalid(_))
    ));
    assert!(matches!(
        BlockPool::new(64, 3, 0, PAGE),
        Err(BlockError::Invalid(_))
    ));
    assert!(matches!(
        BlockPool::new(128, 8, 64, PAGE),
        Err(BlockError::Invalid(_))
    ));
    assert!(matches!(
        BlockPool::new(64, 8, 100, PAGE),
        Err(BlockError::Invalid(_))
    ));
}

#[test]
fn frees_are_checked() {
    let mut pool = BlockPool::new(64, 64, 0, PAGE).unwrap();
    assert_eq!(pool.alloc(), None);
    pool.add_page(0x10_0000, 0x4000_0000).unwrap();
    let a = pool.alloc().unwrap();
    let b = pool.alloc().unwrap();
    assert_eq!((a.device_address, b.device_address), (0x10_0000, 0x10_0040));
    assert_eq!(b.cpu_address, 0x4000_0040);
    assert_eq!(pool.free(0x10_0020), Err(BlockError::NotFromPool));
    assert_eq!(pool.free(0x10_1000), Err(BlockError::NotFromPool));
    assert_eq!(pool.free(0xf_ffc0), Err(BlockError::NotFromPool));
    assert_eq!(pool.free(0x10_0080), Err(BlockError::DoubleFree));
    pool.free(a.device_address).unwrap();
    assert_eq!(pool.free(a.device_address), Err(BlockError::DoubleFree));
    assert_eq!(pool.allocated(a.device_address), None);
    assert_eq!(pool.alloc(), Some(a));
    assert_eq!(pool.allocated(a.device_address), Some(a));
    assert_eq!(pool.allocated(0x10_0020), None);
    assert_eq!(pool.used_blocks(), 2);
}
