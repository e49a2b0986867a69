//! Host tests for range arithmetic, including random sequences checked against a page model.
#![allow(
    clippy::single_range_in_vec_init,
    reason = "an expected set of one range reads best as a one-element array"
)]

extern crate std;

use super::*;
use proptest::prelude::*;
use std::vec::Vec;

/// Checks the set's documented invariant: sorted, non-empty, separated, zeroed tail.
fn assert_well_formed<const N: usize>(set: &RangeSet<N>) {
    let ranges: Vec<_> = set.iter().collect();
    for range in &ranges {
        assert!(range.start < range.end, "empty range in {set:?}");
    }
    for pair in ranges.windows(2) {
        assert!(pair[0].end < pair[1].start, "unmerged or unsorted: {set:?}");
    }
    assert!(set.spans[set.len..]
        .iter()
        .all(|span| *span == Span::default()));
}

fn ranges<const N: usize>(set: &RangeSet<N>) -> Vec<Range<u64>> {
    set.iter().collect()
}

#[test]
fn insert_merges_overlapping_and_touching_ranges() {
    let mut set = RangeSet::<4>::new();
    set.insert(0x1000, 0x1000).unwrap();
    set.insert(0x3000, 0x1000).unwrap();
    assert_eq!(ranges(&set), [0x1000..0x2000, 0x3000..0x4000]);
    set.insert(0x2000, 0x1000).unwrap();
    assert_eq!(ranges(&set), [0x1000..0x4000], "touching on both sides");
    set.insert(0x800, 0x4000).unwrap();
    assert_eq!(ranges(&set), [0x800..0x4800]);
    assert_eq!(set.total(), 0x4000);
    assert_well_formed(&set);
}

#[test]
fn remove_splits_and_trims() {
    let mut set = RangeSet::<4>::new();
    set.insert(0, 0x10_000).unwrap();
    set.remove(0x4000, 0x1000).unwrap();
    assert_eq!(ranges(&set), [0..0x4000, 0x5000..0x10_000]);
    set.remove(0, 0x1000).unwrap();
    set.remove(0xF000, 0x8000).unwrap();
    assert_eq!(ranges(&set), [0x1000..0x4000, 0x5000..0xF000]);
    set.remove(0x2000, 0x5000).unwrap();
    assert_eq!(ranges(&set), [0x1000..0x2000, 0x7000..0xF000]);
    set.remove(0, u64::MAX).unwrap();
    assert!(set.is_empty());
}

#[test]
fn capacity_errors_leave_the_set_unchanged() {
    let mut set = RangeSet::<2>::new();
    set.insert(0, 10).unwrap();
    set.insert(20, 10).unwrap();
    let before = set;
    assert_eq!(set.insert(40, 1), Err(RangeSetError::Full));
    assert_eq!(set.remove(2, 1), Err(RangeSetError::Full));
    assert_eq!(set, before);
    set.insert(10, 10).unwrap();
    assert_eq!(ranges(&set), [0..30], "merging needs no room");
}

#[test]
fn overflow_and_empty_ranges() {
    let mut set = RangeSet::<2>::new();
    assert_eq!(set.insert(u64::MAX, 1), Err(RangeSetError::Overflow));
    assert_eq!(set.remove(1, u64::MAX), Err(RangeSetError::Overflow));
    set.insert(u64::MAX - 10, 10).unwrap();
    assert_eq!(ranges(&set), [u64::MAX - 10..u64::MAX]);
    set.insert(5, 0).unwrap();
    assert_eq!(set.len(), 1);
    assert!(set.contains_range(5, 0));
    assert!(!set.overlaps(u64::MAX - 5, 0));
    assert!(set.overlaps(u64::MAX - 1, 100), "saturates at the top");
    assert!(!set.contains_range(u64::MAX - 1, 100));
}

#[test]
fn contains_and_overlaps() {
    let mut set = RangeSet::<4>::new();
    set.insert(100, 100).unwrap();
    set.insert(300, 100).unwrap();
    assert!(set.contains_range(100, 100));
    assert!(set.contains_range(150, 10));
    assert!(!set.contains_range(150, 100));
    assert!(!set.contains_range(190, 120), "spans a gap");
    assert!(set.overlaps(190, 120));
    assert!(set.overlaps(0, 101));
    assert!(!set.overlaps(0, 100));
    assert!(!set.overlaps(200, 100));
    assert!(set.overlaps(399, 1));
}

#[test]
fn align_inward_keeps_whole_pages_only() {
    let mut set = RangeSet::<4>::new();
    set.insert(0x800, 0x2000).unwrap();
    set.insert(0x4000, 0x800).unwrap();
    set.insert(u64::MAX - 0x10, 0x10).unwrap();
    set.align_inward(0x1000);
    assert_eq!(ranges(&set), [0x1000..0x2000]);
    assert_well_formed(&set);
}

#[test]
#[should_panic(expected = "not a power of two")]
fn align_inward_rejects_odd_page_sizes() {
    RangeSet::<1>::new().align_inward(3000);
}

#[test]
fn usable_ram_is_ram_minus_everything_placed_in_it() {
    let mut usable = RangeSet::<16>::new();
    usable.insert(0, 0x9_FC00).unwrap();
    usable.insert(0x10_0000, 0x7FF0_0000).unwrap();
    let kernel_image = (0x10_0000, 0x23_4567);
    let initrd = (0x80_0000, 0x10_0001);
    let device_tree = (0x7FFF_0000, 0x1_0000);
    let dma_pool = (0x4000_0000, 0x40_0000);
    for (base, size) in [kernel_image, initrd, device_tree, dma_pool] {
        usable.remove(base, size).unwrap();
    }
    usable.align_inward(4096);
    let expected = [
        0..0x9_F000,
        0x33_5000..0x80_0000,
        0x90_1000..0x4000_0000,
        0x4040_0000..0x7FFF_0000,
    ];
    assert_eq!(ranges(&usable), expected);
    assert!(!usable.overlaps(kernel_image.0, kernel_image.1));
}

#[test]
fn checked_range_refuses_overflow() {
    assert_eq!(checked_range(10, 5), Some(10..15));
    assert_eq!(checked_range(10, 0), Some(10..10));
    assert_eq!(checked_range(u64::MAX, 0), Some(u64::MAX..u64::MAX));
    assert_eq!(checked_range(u64::MAX, 1), None);
}

#[test]
fn user_ranges_stay_below_the_top() {
    let top = 0x0000_8000_0000_0000;
    assert_eq!(user_range_ok(0x1000, 0x1000, top), Ok(0x1000..0x2000));
    assert_eq!(user_range_ok(top - 1, 1, top), Ok(top - 1..top));
    assert_eq!(
        user_range_ok(top - 1, 2, top),
        Err(RangeError::AboveUserTop)
    );
    assert_eq!(user_range_ok(top, 1, top), Err(RangeError::AboveUserTop));
    assert_eq!(user_range_ok(u64::MAX, 2, top), Err(RangeError::Overflow));
    assert_eq!(
        user_range_ok(1, u64::MAX, u64::MAX),
        Err(RangeError::Overflow)
    );
}

#[test]
fn zero_length_user_ranges_touch_nothing_but_must_start_in_bounds() {
    let top = 0x1_0000;
    assert_eq!(user_range_ok(0, 0, top), Ok(0..0));
    assert_eq!(user_range_ok(top, 0, top), Ok(top..top));
    assert_eq!(
        user_range_ok(top + 1, 0, top),
        Err(RangeError::AboveUserTop)
    );
}

/// Model size in units; the set works on units directly so each unit is one "page".
const UNITS: u64 = 96;

#[derive(Clone, Debug)]
enum Operation {
    Insert(u64, u64),
    Remove(u64, u64),
}

fn operation() -> impl Strategy<Value = Operation> {
    let range = (0..UNITS).prop_flat_map(|base| (Just(base), 0..=UNITS - base));
    prop_oneof![
        range
            .clone()
            .prop_map(|(base, size)| Operation::Insert(base, size)),
        range.prop_map(|(base, size)| Operation::Remove(base, size)),
    ]
}

/// The model's runs of set units, as ranges.
fn model_ranges(model: &[bool]) -> Vec<Range<u64>> {
    let mut runs = Vec::new();
    let mut start = None;
    for (unit, &set) in model.iter().chain([&false]).enumerate() {
        match (set, start) {
            (true, None) => start = Some(unit as u64),
            (false, Some(first)) => {
                runs.push(first..unit as u64);
                start = None;
            }
            _ => {}
        }
    }
    runs
}

proptest! {
    #[test]
    fn matches_a_page_model(
        operations in proptest::collection::vec(operation(), 0..40),
        queries in proptest::collection::vec((0..UNITS, 0..UNITS), 8),
        page_shift in 0u32..4,
    ) {
        let mut set = RangeSet::<6>::new();
        let mut model = std::vec![false; UNITS as usize];
        for operation in operations {
            let before = set;
            let (result, base, size, value) = match operation {
                Operation::Insert(base, size) => (set.insert(base, size), base, size, true),
                Operation::Remove(base, size) => (set.remove(base, size), base, size, false),
            };
            let mut next = model.clone();
            next[base as usize..(base + size) as usize].fill(value);
            match result {
                Ok(()) => model = next,
                Err(error) => {
                    prop_assert_eq!(error, RangeSetError::Full);
                    prop_assert!(model_ranges(&next).len() > 6, "refused though it fits");
                    prop_assert_eq!(set, before);
                }
            }
            assert_well_formed(&set);
            prop_assert_eq!(ranges(&set), model_ranges(&model));
            prop_assert_eq!(set.total(), model.iter().filter(|&&unit| unit).count() as u64);
        }
        for &(base, size) in &queries {
            let size = size.min(UNITS - base);
            let units = &model[base as usize..(base + size) as usize];
            prop_assert_eq!(set.contains_range(base, size), units.iter().all(|&unit| unit));
            prop_assert_eq!(set.overlaps(base, size), units.iter().any(|&unit| unit));
        }
        let page = 1u64 << page_shift;
        set.align_inward(page);
        assert_well_formed(&set);
        let aligned: Vec<bool> = (0..UNITS)
            .map(|unit| {
                let block = (unit & !(page - 1)) as usize;
                model[block..(block + page as usize).min(UNITS as usize)].iter().all(|&u| u)
                    && block as u64 + page <= UNITS
            })
            .collect();
        prop_assert_eq!(ranges(&set), model_ranges(&aligned));
    }

    #[test]
    fn user_range_agrees_with_wide_arithmetic(base: u64, len: u64, top: u64) {
        let end = base as u128 + len as u128;
        let expected = if end > u64::MAX as u128 {
            Err(RangeError::Overflow)
        } else if end > top as u128 {
            Err(RangeError::AboveUserTop)
        } else {
            Ok(base..end as u64)
        };
        prop_assert_eq!(user_range_ok(base, len, top), expected);
        prop_assert_eq!(checked_range(base, len).is_some(), end <= u64::MAX as u128);
    }
}
