//! [`PageTable::unmap`]: check that the whole range is mapped, then clear it and free the
//! tables it empties.

use super::address::{entry_size, VirtualRange};
use super::walk::{check_covered, classify, entries_in, is_empty, Slot};
use super::{MapError, PageTable, PageTableFormat, PhysicalAccess, TableFrames};

impl<F: PageTableFormat> PageTable<F> {
    /// Unmaps the `size` bytes at `virtual_start`, calling `on_unmapped(virtual_start,
    /// physical, page_size)` for each leaf after clearing it, in address order.
    ///
    /// Every table left empty is freed (never the root), each after the callbacks for the
    /// leaves it held, so the callback is where the kernel invalidates the TLB (which also
    /// drops cached walks through those tables) and takes back the mapped frames. A zero
    /// `size` unmaps nothing.
    ///
    /// Refused, with nothing changed: [`MapError::Misaligned`], [`MapError::Overflow`],
    /// [`MapError::NonCanonical`], [`MapError::NotMapped`] (any page of the range is not
    /// mapped) and [`MapError::WouldSplitLargePage`] (the range covers only part of a 2 MiB
    /// or 1 GiB leaf: splitting a leaf into smaller ones is not supported, so unmap whole
    /// large leaves or map with [`PageSizes::Small`](super::PageSizes::Small)).
    pub fn unmap(
        &mut self,
        memory: &mut impl PhysicalAccess,
        frames: &mut impl TableFrames,
        virtual_start: u64,
        size: u64,
        mut on_unmapped: impl FnMut(u64, u64, u64),
    ) -> Result<(), MapError> {
        let Some(range) = VirtualRange::new(virtual_start, size)? else {
            return Ok(());
        };
        check_covered::<F>(memory, self.root, 0, range)?;
        clear::<F>(memory, frames, self.root, 0, range, &mut on_unmapped);
        Ok(())
    }
}

/// Clears every leaf translating part of `range` under `table` (at `level`), freeing the
/// tables below `table` that end up empty.
fn clear<F: PageTableFormat>(
    memory: &mut impl PhysicalAccess,
    frames: &mut impl TableFrames,
    table: u64,
    level: usize,
    range: VirtualRange,
    on_unmapped: &mut impl FnMut(u64, u64, u64),
) {
    let size = entry_size(level);
    for (index, start) in entries_in(range, level) {
        match classify::<F>(memory.read_entry(table, index), level) {
            Slot::Leaf(physical, _) => {
                memory.write_entry(table, index, 0);
                on_unmapped(start, physical, size);
            }
            Slot::Table(next) => {
                let inner = range.clamp(start, size);
                clear::<F>(memory, frames, next, level + 1, inner, on_unmapped);
                if is_empty::<F>(memory, next) {
                    memory.write_entry(table, index, 0);
                    frames.free_table(next);
                }
            }
            // `check_covered` found leaves everywhere in the range.
            Slot::Empty | Slot::Unknown => {}
        }
    }
}
