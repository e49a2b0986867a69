//! Scenarios for what a successful map and protect produce.

use super::super::std::vec::Vec;
use super::super::{every_flags, normalized};
use super::{leaves, setup, DATA};
use crate::paging::{
    entry_size, MapError, PageSizes, PageTableFormat, LOWER_HALF_END, PAGE_SIZE, UPPER_HALF_START,
};
use crate::{CacheType, PageFlags};

/// Each flags combination, mapped with a leaf of each size in the lower half and a 4 KiB leaf
/// in the upper half, translates back to the same physical address and the format's reading
/// of the flags; combinations the format refuses are refused with its error.
pub fn every_flags_round_trip<F: PageTableFormat>() {
    let (mut table, mut memory, mut frames) = setup::<F>();
    let places = [
        (3, 0x40_0000_0000, PageSizes::Small),
        (2, 0x80_0000_0000, PageSizes::Any),
        (1, 0x100_0000_0000, PageSizes::Any),
        (3, UPPER_HALF_START, PageSizes::Small),
    ];
    for (number, flags) in every_flags().enumerate() {
        for (level, base, page_sizes) in places {
            let size = entry_size(level);
            let virtual_start = base + 2 * size * number as u64;
            let physical = 4 * size * (number as u64 + 1);
            let result = table.map(
                &mut memory,
                &mut frames,
                virtual_start,
                physical,
                size,
                flags,
                page_sizes,
            );
            let probe = virtual_start + size / 2 + 8;
            let Some(expected) = normalized::<F>(flags, level) else {
                let error = F::encode_leaf(physical, flags, level).expect_err("refused");
                assert_eq!(result, Err(MapError::Encode(error)), "{flags:?}");
                assert_eq!(table.translate(&memory, probe), None);
                continue;
            };
            assert_eq!(result, Ok(()), "{flags:?} at level {level}");
            let translation = table.translate(&memory, probe).expect("mapped");
            assert_eq!(translation.physical, physical + size / 2 + 8);
            assert_eq!(translation.flags, expected);
            assert_eq!(translation.page_size, size);
            assert_eq!(translation.level, level);
            assert_eq!(
                Ok(translation.entry),
                F::encode_leaf(physical, flags, level)
            );
        }
    }
}

/// [`PageSizes::Any`] uses 1 GiB and 2 MiB leaves exactly where both addresses are aligned
/// and enough of the range remains; [`PageSizes::Small`] never does.
pub fn large_pages_only_with_any<F: PageTableFormat>() {
    let (mut table, mut memory, mut frames) = setup::<F>();
    let (giga, mega) = (entry_size(1), entry_size(2));
    let size = giga + mega + PAGE_SIZE;
    table
        .map(
            &mut memory,
            &mut frames,
            giga,
            4 * giga,
            size,
            DATA,
            PageSizes::Any,
        )
        .unwrap();
    let sizes: Vec<u64> = leaves(&table, &memory)
        .iter()
        .map(|leaf| leaf.page_size)
        .collect();
    assert_eq!(sizes, [giga, mega, PAGE_SIZE]);
    assert_eq!(table.count_tables(&memory), 4);

    let small = 8 * giga;
    table
        .map(
            &mut memory,
            &mut frames,
            small,
            16 * giga,
            mega + PAGE_SIZE,
            DATA,
            PageSizes::Small,
        )
        .unwrap();
    let unaligned = 16 * giga;
    table
        .map(
            &mut memory,
            &mut frames,
            unaligned,
            32 * giga + PAGE_SIZE,
            2 * mega,
            DATA,
            PageSizes::Any,
        )
        .unwrap();
    let shifted = 24 * giga + PAGE_SIZE;
    table
        .map(
            &mut memory,
            &mut frames,
            shifted,
            40 * giga + PAGE_SIZE,
            2 * mega,
            DATA,
            PageSizes::Any,
        )
        .unwrap();

    let all = leaves(&table, &memory);
    let count = |start: u64, end: u64, page_size: u64| {
        all.iter()
            .filter(|leaf| {
                leaf.virtual_start >= start
                    && leaf.virtual_start < end
                    && leaf.page_size == page_size
            })
            .count()
    };
    assert_eq!(count(small, small + giga, PAGE_SIZE), 513);
    assert_eq!(count(unaligned, unaligned + giga, PAGE_SIZE), 1024);
    assert_eq!(count(shifted, shifted + giga, PAGE_SIZE), 512);
    assert_eq!(count(shifted, shifted + giga, mega), 1);
    assert_eq!(
        table
            .translate(&memory, shifted + 511 * PAGE_SIZE)
            .unwrap()
            .page_size,
        mega
    );
    assert_eq!(all.len(), 3 + 513 + 1024 + 513);
}

/// Both ends of the upper half map, translate and report sign-extended addresses, and their
/// index bits do not alias the lower half.
pub fn upper_half_ranges_work<F: PageTableFormat>() {
    let (mut table, mut memory, mut frames) = setup::<F>();
    let top = 0u64.wrapping_sub(PAGE_SIZE);
    let block = 0u64.wrapping_sub(entry_size(1));
    table
        .map(
            &mut memory,
            &mut frames,
            UPPER_HALF_START,
            0x20_0000,
            2 * PAGE_SIZE,
            DATA,
            PageSizes::Small,
        )
        .unwrap();
    table
        .map(
            &mut memory,
            &mut frames,
            top,
            0x30_0000,
            PAGE_SIZE,
            DATA,
            PageSizes::Small,
        )
        .unwrap();
    table
        .map(
            &mut memory,
            &mut frames,
            block,
            0x4000_0000,
            entry_size(2),
            DATA,
            PageSizes::Any,
        )
        .unwrap();
    assert_eq!(
        table
            .translate(&memory, UPPER_HALF_START + 0x1008)
            .unwrap()
            .physical,
        0x20_1008
    );
    assert_eq!(
        table.translate(&memory, u64::MAX).unwrap().physical,
        0x30_0FFF
    );
    assert_eq!(
        table.translate(&memory, block + 0x1234).unwrap().page_size,
        entry_size(2)
    );
    for lower in [0, LOWER_HALF_END - PAGE_SIZE, top & (LOWER_HALF_END - 1)] {
        assert_eq!(table.translate(&memory, lower), None, "{lower:#x}");
    }
    assert_eq!(table.translate(&memory, LOWER_HALF_END), None);
    assert_eq!(table.translate(&memory, UPPER_HALF_START - PAGE_SIZE), None);
    let starts: Vec<u64> = leaves(&table, &memory)
        .iter()
        .map(|leaf| leaf.virtual_start)
        .collect();
    assert_eq!(
        starts,
        [UPPER_HALF_START, UPPER_HALF_START + PAGE_SIZE, block, top]
    );
    table
        .unmap(&mut memory, &mut frames, top, PAGE_SIZE, |_, _, _| {})
        .unwrap();
    table
        .unmap(&mut memory, &mut frames, block, entry_size(2), |_, _, _| {})
        .unwrap();
    table
        .unmap(
            &mut memory,
            &mut frames,
            UPPER_HALF_START,
            2 * PAGE_SIZE,
            |_, _, _| {},
        )
        .unwrap();
    assert_eq!(frames.live_tables(), 1);
}

/// Protect re-encodes leaves of any size in place, reporting only the leaves that changed.
pub fn protect_changes_flags_in_place<F: PageTableFormat>() {
    let (mut table, mut memory, mut frames) = setup::<F>();
    let mega = entry_size(2);
    let start = 0x4000_0000;
    table
        .map(
            &mut memory,
            &mut frames,
            start,
            0x8000_0000,
            mega + 3 * PAGE_SIZE,
            DATA,
            PageSizes::Any,
        )
        .unwrap();
    let tables = frames.live_tables();
    let new_flags = PageFlags::user()
        .executable()
        .cache(CacheType::WriteCombining);
    let mut changed = Vec::new();
    table
        .protect(
            &mut memory,
            start,
            mega + 3 * PAGE_SIZE,
            new_flags,
            |address| changed.push(address),
        )
        .unwrap();
    assert_eq!(
        changed,
        [
            start,
            start + mega,
            start + mega + PAGE_SIZE,
            start + mega + 2 * PAGE_SIZE
        ]
    );
    for (probe, level) in [(start + 0x1234, 2), (start + mega + 2 * PAGE_SIZE, 3)] {
        let translation = table.translate(&memory, probe).unwrap();
        assert_eq!(translation.physical, 0x8000_0000 + (probe - start));
        assert_eq!(Some(translation.flags), normalized::<F>(new_flags, level));
    }
    changed.clear();
    table
        .protect(
            &mut memory,
            start,
            mega + 3 * PAGE_SIZE,
            new_flags,
            |address| changed.push(address),
        )
        .unwrap();
    assert_eq!(changed, []);
    table
        .protect(
            &mut memory,
            start + mega + PAGE_SIZE,
            PAGE_SIZE,
            DATA,
            |address| changed.push(address),
        )
        .unwrap();
    assert_eq!(changed, [start + mega + PAGE_SIZE]);
    assert_eq!(
        table.translate(&memory, start + mega).unwrap().flags,
        normalized::<F>(new_flags, 3).unwrap()
    );
    assert_eq!(frames.live_tables(), tables);
}
