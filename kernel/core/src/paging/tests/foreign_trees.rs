//! Host tests for trees the walker did not build: empty tables and unknown entries.

use super::tiny_format::{TinyFormat, PRESENT};
use crate::paging::testing::emulated_machine;
use crate::paging::{
    entry_size, MapError, PageSizes, PageTable, PageTableFormat, PhysicalAccess, TableFrames,
    PAGE_SIZE,
};
use crate::PageFlags;

#[test]
fn map_descends_into_an_existing_empty_table_instead_of_replacing_it() {
    let (mut memory, mut frames) = emulated_machine();
    let root = frames.allocate_table().unwrap();
    let level_1 = frames.allocate_table().unwrap();
    let level_2 = frames.allocate_table().unwrap();
    memory.write_entry(root, 0, TinyFormat::encode_table(level_1));
    memory.write_entry(level_1, 0, TinyFormat::encode_table(level_2));
    let mut table = PageTable::<TinyFormat>::from_root(root);
    assert_eq!(table.root(), root);
    let flags = PageFlags::kernel();
    table
        .map(
            &mut memory,
            &mut frames,
            0,
            0,
            entry_size(1),
            flags,
            PageSizes::Any,
        )
        .unwrap();
    assert_eq!(
        table.translate(&memory, 0).unwrap().page_size,
        entry_size(2)
    );
    assert_eq!(table.count_tables(&memory), 3);
    table
        .unmap(&mut memory, &mut frames, 0, entry_size(1), |_, _, _| {})
        .unwrap();
    assert_eq!(
        frames.live_tables(),
        1,
        "the emptied foreign tables are freed too"
    );
}

#[test]
fn unknown_present_entries_count_as_mapped_for_map_and_unmapped_for_unmap() {
    let (mut memory, mut frames) = emulated_machine();
    let mut table = PageTable::<TinyFormat>::new(&mut frames).unwrap();
    let root = table.root();
    memory.write_entry(root, 1, PRESENT);
    let start = entry_size(0);
    let flags = PageFlags::kernel();
    let map = table.map(
        &mut memory,
        &mut frames,
        start,
        0,
        PAGE_SIZE,
        flags,
        PageSizes::Small,
    );
    assert_eq!(map, Err(MapError::AlreadyMapped));
    let unmap = table.unmap(&mut memory, &mut frames, start, PAGE_SIZE, |_, _, _| {});
    assert_eq!(unmap, Err(MapError::NotMapped));
    assert_eq!(table.translate(&memory, start), None);
    assert_eq!(table.count_tables(&memory), 1);
    table.for_each_leaf(&memory, |leaf| panic!("visited {leaf:?}"));
    table.destroy(&memory, &mut frames);
    assert_eq!(frames.live_tables(), 0);
}
