//! Free-space tests: exactness against a page-map model, coalescing, metadata budget.

use alloc::vec;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::FreeSpace;

/// The model: one flag per page, searched exhaustively.
struct PageMap {
    first_frame: u64,
    free: Vec<bool>,
}

impl PageMap {
    /// Whether some run of `2^order` free pages starts at a frame aligned to `2^align_order`.
    fn fits(&self, order: u32, align_order: u32) -> bool {
        let length = 1usize << order;
        (0..self.free.len()).any(|page| {
            crate::summary::is_aligned(self.first_frame + page as u64, align_order)
                && page + length <= self.free.len()
                && self.free[page..page + length].iter().all(|&free| free)
        })
    }

    /// The largest order of a free run aligned to its size, if any page is free.
    fn largest_free_order(&self) -> Option<u32> {
        self.extents()
            .into_iter()
            .filter_map(|(start, length)| {
                let first = self.first_frame + start;
                (0..40u32).rev().find(|&order| {
                    let aligned = first.next_multiple_of(1 << order);
                    aligned + (1 << order) <= first + length
                })
            })
            .max()
    }

    fn extents(&self) -> Vec<(u64, u64)> {
        let mut extents: Vec<(u64, u64)> = Vec::new();
        for (page, &free) in self.free.iter().enumerate() {
            if !free {
                continue;
            }
            match extents.last_mut() {
                Some((start, length)) if *start + *length == page as u64 => *length += 1,
                _ => extents.push((page as u64, 1)),
            }
        }
        extents
    }
}

fn extents_of(space: &FreeSpace) -> Vec<(u64, u64)> {
    let mut extents = Vec::new();
    space.for_each_free_extent(|start, length| extents.push((start, length)));
    extents
}

#[derive(Clone, Debug)]
enum Step {
    Allocate { order: u32, extra_align: u32 },
    Release { pick: usize },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u32..10, prop_oneof![6 => Just(0u32), 3 => 1u32..4, 1 => 4u32..60])
            .prop_map(|(order, extra_align)| Step::Allocate { order, extra_align }),
        2 => any::<usize>().prop_map(|pick| Step::Release { pick }),
    ]
}

fn pool_shape() -> impl Strategy<Value = (u64, u64)> {
    let first_frame = prop_oneof![
        0u64..200,
        Just(1 << 30),
        (0u64..64).prop_map(|low| (1 << 40) - low)
    ];
    (first_frame, prop_oneof![1u64..80, 80u64..900])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2500))]

    /// Every allocation succeeds exactly when the model has room, never overlaps, is aligned,
    /// and the free extents always match the model's; a fully released pool is one run.
    #[test]
    fn matches_the_page_map((first_frame, pages) in pool_shape(), steps in prop::collection::vec(step(), 1..60)) {
        let mut space = FreeSpace::new(first_frame, pages);
        let mut model = PageMap { first_frame, free: vec![true; pages as usize] };
        let mut live: Vec<(u64, u32)> = Vec::new();
        for step in steps {
            match step {
                Step::Allocate { order, extra_align } => {
                    let align_order = order + extra_align;
                    let expected = model.fits(order, align_order);
                    match space.allocate(order, align_order) {
                        Some(page) => {
                            prop_assert!(expected, "allocated where the model has no room");
                            prop_assert!(crate::summary::is_aligned(first_frame + page, align_order));
                            let range = page as usize..(page as usize + (1 << order));
                            prop_assert!(range.end <= pages as usize);
                            prop_assert!(model.free[range.clone()].iter().all(|&free| free));
                            model.free[range].iter_mut().for_each(|free| *free = false);
                            live.push((page, order));
                        }
                        None => prop_assert!(!expected, "no room found although the model has some"),
                    }
                }
                Step::Release { pick } => {
                    if live.is_empty() {
                        continue;
                    }
                    let (page, order) = live.swap_remove(pick % live.len());
                    space.release(page, order);
                    let range = page as usize..(page as usize + (1 << order));
                    model.free[range].iter_mut().for_each(|free| *free = true);
                }
            }
            prop_assert_eq!(space.check(), Ok(()));
            prop_assert_eq!(space.free_pages(), model.free.iter().filter(|&&free| free).count() as u64);
            prop_assert_eq!(extents_of(&space), model.extents());
            prop_assert_eq!(space.largest_free_order(), model.largest_free_order());
        }
        for (page, order) in live.drain(..) {
            space.release(page, order);
        }
        prop_assert_eq!(space.check(), Ok(()));
        prop_assert_eq!(extents_of(&space), vec![(0, pages)]);
        let fresh = FreeSpace::new(first_frame, pages);
        prop_assert_eq!(space.largest_free_order(), fresh.largest_free_order());
    }
}

/// The hot cache hands a released block straight back to the next request of its order,
/// but never at the cost of exactness: a request only the hot blocks' pages can complete
/// flushes them back into the structures and succeeds.
#[test]
fn hot_blocks_are_reused_and_flushed_when_needed() {
    // 256 pages: four whole chunks in one buddy block of order 8.
    let mut space = FreeSpace::new(1 << 20, 256);
    let small = space.allocate(0, 0).unwrap();
    let chunk = space.allocate(6, 6).unwrap();
    space.release(small, 0);
    space.release(chunk, 6);
    assert_eq!(space.hot_orders, 1 | 1 << 6);
    space.check().unwrap();
    assert_eq!(extents_of(&space), vec![(0, 256)]);
    assert_eq!(space.largest_free_order(), Some(8));
    // Same orders again: the hot blocks, at the same pages, with nothing searched.
    assert_eq!(space.allocate(0, 0), Some(small));
    assert_eq!(space.allocate(6, 6), Some(chunk));
    assert_eq!(space.hot_orders, 0);
    space.release(small, 0);
    space.release(chunk, 6);
    // A hot block misaligned for the request is left alone.
    let first = space.allocate(0, 0).unwrap();
    let second = space.allocate(0, 0).unwrap();
    assert_eq!((first, second), (small, small + 1));
    space.release(second, 0);
    space.release(first, 0);
    assert_eq!(space.hot[0], second);
    let aligned = space.allocate(0, 3).unwrap();
    assert_eq!(aligned % 8, 0);
    assert_eq!((space.hot_orders & 1, space.hot[0]), (1, second));
    space.release(aligned, 0);
    space.check().unwrap();
    // The whole pool needs the hot pages back: flushed, merged, allocated.
    assert_eq!(space.allocate(8, 8), Some(0));
    assert_eq!(space.hot_orders, 0);
    assert_eq!(space.free_pages(), 0);
    space.check().unwrap();
    space.release(0, 8);
    space.check().unwrap();
    assert_eq!(space.free_pages(), 256);
}

#[test]
fn metadata_stays_under_two_bits_per_page() {
    for pages in [1u64, 64, 4096, 65_536, 1 << 20] {
        let space = FreeSpace::new(1 << 28, pages);
        let budget = pages / 4 + 256;
        assert!(
            space.metadata_bytes() as u64 <= budget,
            "{pages} pages use {} bytes of free-space metadata",
            space.metadata_bytes()
        );
    }
    // A 4 GiB pool: 1,048,576 pages, 16,384 chunks.
    let space = FreeSpace::new(1 << 28, 1 << 20);
    let bits_per_page = space.metadata_bytes() as f64 * 8.0 / (1u64 << 20) as f64;
    assert!(bits_per_page < 1.2, "{bits_per_page} bits per page");
}

#[test]
fn edge_chunks_stay_split_and_middle_chunks_coalesce() {
    // Pages 10..150: a partial chunk, one whole chunk, a partial chunk.
    let mut space = FreeSpace::new(10, 140);
    assert_eq!(space.largest_free_order(), Some(6));
    let whole = space.allocate(6, 6).unwrap();
    assert_eq!(whole, 54);
    assert_eq!(space.allocate(6, 6), None);
    let small = space.allocate(0, 0).unwrap();
    assert_eq!(small, 0);
    space.release(whole, 6);
    space.release(small, 0);
    space.check().unwrap();
    assert_eq!(extents_of(&space), vec![(0, 140)]);
}
