//! Scenarios for the life of a tree: what it holds, what unmapping frees, and its end.

use super::super::std::vec::Vec;
use super::{leaves, setup, DATA};
use crate::paging::{entry_size, PageSizes, PageTableFormat, PAGE_SIZE, UPPER_HALF_START};

/// Ranges of every shape: (virtual start, physical start, size, leaf sizes).
fn ranges() -> [(u64, u64, u64, PageSizes); 6] {
    let (giga, mega) = (entry_size(1), entry_size(2));
    [
        (0, 0x20_0000, PAGE_SIZE, PageSizes::Small),
        (
            (1 << 39) - 2 * PAGE_SIZE,
            0x40_0000,
            4 * PAGE_SIZE,
            PageSizes::Small,
        ),
        (giga, 4 * giga, giga + mega + PAGE_SIZE, PageSizes::Any),
        (
            8 * giga - mega,
            16 * giga - mega,
            2 * mega,
            PageSizes::Small,
        ),
        (UPPER_HALF_START, 0, 2 * mega, PageSizes::Any),
        (
            0u64.wrapping_sub(4 * PAGE_SIZE),
            0x80_0000,
            4 * PAGE_SIZE,
            PageSizes::Small,
        ),
    ]
}

/// Unmapping a range frees every table it emptied, whatever its shape, reporting each leaf
/// once, in order; unmapping part of a range keeps the tables the rest needs.
pub fn unmap_frees_empty_tables<F: PageTableFormat>() {
    for (virtual_start, physical, size, page_sizes) in ranges() {
        let (mut table, mut memory, mut frames) = setup::<F>();
        table
            .map(
                &mut memory,
                &mut frames,
                virtual_start,
                physical,
                size,
                DATA,
                page_sizes,
            )
            .unwrap();
        let mut reported = Vec::new();
        table
            .unmap(
                &mut memory,
                &mut frames,
                virtual_start,
                size,
                |address, target, page_size| reported.push((address, target, page_size)),
            )
            .unwrap();
        let mut next = virtual_start;
        for (address, target, page_size) in reported {
            assert_eq!(
                (address, target),
                (next, physical + (address - virtual_start))
            );
            next = next.wrapping_add(page_size);
        }
        assert_eq!(next, virtual_start.wrapping_add(size));
        assert_eq!(table.count_tables(&memory), 1, "{virtual_start:#x}");
        assert_eq!(frames.live_tables(), 1, "{virtual_start:#x}");
    }

    let (mut table, mut memory, mut frames) = setup::<F>();
    for (virtual_start, physical, size, page_sizes) in ranges() {
        table
            .map(
                &mut memory,
                &mut frames,
                virtual_start,
                physical,
                size,
                DATA,
                page_sizes,
            )
            .unwrap();
    }
    let start = 0x10_0000_0000;
    table
        .map(
            &mut memory,
            &mut frames,
            start,
            0,
            8 * PAGE_SIZE,
            DATA,
            PageSizes::Small,
        )
        .unwrap();
    let tables = frames.live_tables();
    table
        .unmap(
            &mut memory,
            &mut frames,
            start + 2 * PAGE_SIZE,
            2 * PAGE_SIZE,
            |_, _, _| {},
        )
        .unwrap();
    assert_eq!(frames.live_tables(), tables);
    assert!(table.translate(&memory, start + PAGE_SIZE).is_some());
    assert!(table.translate(&memory, start + 2 * PAGE_SIZE).is_none());
    for (virtual_start, size) in [
        (start, 2 * PAGE_SIZE),
        (start + 4 * PAGE_SIZE, 4 * PAGE_SIZE),
    ] {
        table
            .unmap(&mut memory, &mut frames, virtual_start, size, |_, _, _| {})
            .unwrap();
    }
    for (virtual_start, _, size, _) in ranges().into_iter().rev() {
        table
            .unmap(&mut memory, &mut frames, virtual_start, size, |_, _, _| {})
            .unwrap();
    }
    assert_eq!(frames.live_tables(), 1);
    assert_eq!(leaves(&table, &memory), []);
}

/// `for_each_leaf` visits every leaf of every range once, in address order, with its size,
/// level, physical address and entry.
pub fn for_each_leaf_visits_exactly_the_mapped_leaves<F: PageTableFormat>() {
    let (mut table, mut memory, mut frames) = setup::<F>();
    assert_eq!(leaves(&table, &memory), []);
    let mut expected = Vec::new();
    for (virtual_start, physical, size, page_sizes) in ranges() {
        table
            .map(
                &mut memory,
                &mut frames,
                virtual_start,
                physical,
                size,
                DATA,
                page_sizes,
            )
            .unwrap();
        let mut offset = 0;
        while offset < size {
            let translation = table.translate(&memory, virtual_start + offset).unwrap();
            expected.push((
                virtual_start + offset,
                physical + offset,
                translation.page_size,
            ));
            assert_eq!(
                F::decode_leaf(translation.entry, translation.level)
                    .unwrap()
                    .0,
                physical + offset
            );
            offset += translation.page_size;
        }
    }
    expected.sort();
    let visited: Vec<(u64, u64, u64)> = leaves(&table, &memory)
        .iter()
        .map(|leaf| {
            assert_eq!(leaf.page_size, entry_size(leaf.level));
            assert_eq!(
                F::encode_leaf(leaf.physical, DATA, leaf.level),
                Ok(leaf.entry)
            );
            (leaf.virtual_start, leaf.physical, leaf.page_size)
        })
        .collect();
    assert_eq!(visited, expected);
}

/// Destroying a tree frees every table, the root included, and no leaf frame (the emulated
/// frame source panics on freeing anything but a live table).
pub fn destroy_frees_every_table<F: PageTableFormat>() {
    let (mut table, mut memory, mut frames) = setup::<F>();
    for (virtual_start, physical, size, page_sizes) in ranges() {
        table
            .map(
                &mut memory,
                &mut frames,
                virtual_start,
                physical,
                size,
                DATA,
                page_sizes,
            )
            .unwrap();
    }
    assert_eq!(table.count_tables(&memory), frames.live_tables());
    table.destroy(&memory, &mut frames);
    assert_eq!(frames.live_tables(), 0);
}

/// Zero-sized requests succeed without touching anything or calling back.
pub fn zero_sizes_change_nothing<F: PageTableFormat>() {
    let (mut table, mut memory, mut frames) = setup::<F>();
    let before = memory.snapshot();
    table
        .map(
            &mut memory,
            &mut frames,
            PAGE_SIZE,
            0,
            0,
            DATA,
            PageSizes::Any,
        )
        .unwrap();
    table
        .unmap(&mut memory, &mut frames, PAGE_SIZE, 0, |_, _, _| {
            panic!("called back")
        })
        .unwrap();
    table
        .protect(&mut memory, PAGE_SIZE, 0, DATA, |_| panic!("called back"))
        .unwrap();
    assert_eq!(memory.snapshot(), before);
    assert_eq!(frames.live_tables(), 1);
}
