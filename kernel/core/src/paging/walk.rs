//! Recursive walks over the part of a tree that translates a range of virtual addresses.

use super::address::{entry_size, VirtualRange, LAST_LEVEL};
use super::{Leaf, MapError, PageTableFormat, PhysicalAccess};
use crate::PageFlags;

/// What one entry holds, as the walker sees it.
pub(super) enum Slot {
    /// Not present: translates nothing.
    Empty,
    /// A pointer to the next-level table at this physical address.
    Table(u64),
    /// A leaf mapping this physical address with these flags.
    Leaf(u64, PageFlags),
    /// Present but neither a table nor a leaf the format recognises (for example a block
    /// descriptor at level 0). Never overwritten, never cleared, never followed.
    Unknown,
}

/// What `entry` at `level` holds in format `F`.
pub(super) fn classify<F: PageTableFormat>(entry: u64, level: usize) -> Slot {
    if !F::is_present(entry) {
        return Slot::Empty;
    }
    if level < LAST_LEVEL {
        if let Some(table) = F::table_address(entry, level) {
            return Slot::Table(table);
        }
    }
    if level > 0 {
        if let Some((physical, flags)) = F::decode_leaf(entry, level) {
            return Slot::Leaf(physical, flags);
        }
    }
    Slot::Unknown
}

/// The entries of a level-`level` table that overlap `range` (which must lie within the
/// table's span): each entry's index and the first virtual address it translates.
pub(super) fn entries_in(range: VirtualRange, level: usize) -> impl Iterator<Item = (usize, u64)> {
    let size = entry_size(level);
    let first_start = range.first - range.first % size;
    let count = (range.last - first_start) / size + 1;
    let first_index = super::index_of(range.first, level);
    (0..count as usize).map(move |step| (first_index + step, first_start + step as u64 * size))
}

/// Whether any entry translating part of `range` under `table` (at `level`) is a leaf or an
/// unrecognised present entry.
pub(super) fn any_occupied<F: PageTableFormat>(
    memory: &impl PhysicalAccess,
    table: u64,
    level: usize,
    range: VirtualRange,
) -> bool {
    entries_in(range, level).any(|(index, start)| {
        match classify::<F>(memory.read_entry(table, index), level) {
            Slot::Empty => false,
            Slot::Leaf(..) | Slot::Unknown => true,
            Slot::Table(next) => {
                let inner = range.clamp(start, entry_size(level));
                any_occupied::<F>(memory, next, level + 1, inner)
            }
        }
    })
}

/// Checks that leaves map every page of `range` under `table` (at `level`) and that each of
/// those leaves lies wholly inside `range`.
pub(super) fn check_covered<F: PageTableFormat>(
    memory: &impl PhysicalAccess,
    table: u64,
    level: usize,
    range: VirtualRange,
) -> Result<(), MapError> {
    for (index, start) in entries_in(range, level) {
        let size = entry_size(level);
        match classify::<F>(memory.read_entry(table, index), level) {
            Slot::Empty | Slot::Unknown => return Err(MapError::NotMapped),
            Slot::Leaf(..) if !range.contains(start, size) => {
                return Err(MapError::WouldSplitLargePage)
            }
            Slot::Leaf(..) => {}
            Slot::Table(next) => {
                check_covered::<F>(memory, next, level + 1, range.clamp(start, size))?;
            }
        }
    }
    Ok(())
}

/// Calls `visit` for every leaf translating part of `range` under `table` (at `level`), in
/// address order, stopping at the first error it returns.
pub(super) fn visit_leaves<F: PageTableFormat, E>(
    memory: &impl PhysicalAccess,
    table: u64,
    level: usize,
    range: VirtualRange,
    visit: &mut impl FnMut(Leaf) -> Result<(), E>,
) -> Result<(), E> {
    for (index, start) in entries_in(range, level) {
        let entry = memory.read_entry(table, index);
        match classify::<F>(entry, level) {
            Slot::Empty | Slot::Unknown => {}
            Slot::Leaf(physical, flags) => visit(Leaf {
                virtual_start: start,
                physical,
                page_size: entry_size(level),
                flags,
                entry,
                level,
            })?,
            Slot::Table(next) => {
                let inner = range.clamp(start, entry_size(level));
                visit_leaves::<F, E>(memory, next, level + 1, inner, visit)?;
            }
        }
    }
    Ok(())
}

/// The number of tables in the tree rooted at `table` (at `level`), `table` included.
pub(super) fn count_tables<F: PageTableFormat>(
    memory: &impl PhysicalAccess,
    table: u64,
    level: usize,
) -> usize {
    1 + (0..super::ENTRIES_PER_TABLE)
        .map(
            |index| match classify::<F>(memory.read_entry(table, index), level) {
                Slot::Table(next) => count_tables::<F>(memory, next, level + 1),
                _ => 0,
            },
        )
        .sum::<usize>()
}

/// Whether every entry of `table` is not present.
pub(super) fn is_empty<F: PageTableFormat>(memory: &impl PhysicalAccess, table: u64) -> bool {
    (0..super::ENTRIES_PER_TABLE).all(|index| !F::is_present(memory.read_entry(table, index)))
}
