//! Scenarios every [`PageTableFormat`] must pass, each a plain function that panics on failure.
//!
//! [`PageTableFormat`]: crate::paging::PageTableFormat

mod lifecycle;
mod mapping;
mod out_of_frames;
mod refusals;

pub use lifecycle::{
    destroy_frees_every_table, for_each_leaf_visits_exactly_the_mapped_leaves,
    unmap_frees_empty_tables, zero_sizes_change_nothing,
};
pub use mapping::{
    every_flags_round_trip, large_pages_only_with_any, protect_changes_flags_in_place,
    upper_half_ranges_work,
};
pub use out_of_frames::out_of_frames_midway_changes_nothing;
pub use refusals::requests_refused_change_nothing;

use super::std::vec::Vec;
use super::{emulated_machine, EmulatedFrames, EmulatedMemory};
use crate::paging::{Leaf, PageTable, PageTableFormat};
use crate::PageFlags;

/// Read-write kernel data, the flags most scenarios map with.
const DATA: PageFlags = PageFlags::kernel().writable();

/// A fresh machine and an empty page table on it.
fn setup<F: PageTableFormat>() -> (PageTable<F>, EmulatedMemory, EmulatedFrames) {
    let (memory, mut frames) = emulated_machine();
    let table = PageTable::new(&mut frames).expect("a root");
    (table, memory, frames)
}

/// Every leaf of `table`, in the order [`PageTable::for_each_leaf`] visits them.
fn leaves<F: PageTableFormat>(table: &PageTable<F>, memory: &EmulatedMemory) -> Vec<Leaf> {
    let mut leaves = Vec::new();
    table.for_each_leaf(memory, |leaf| leaves.push(leaf));
    leaves
}
