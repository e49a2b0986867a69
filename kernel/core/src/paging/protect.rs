//! [`PageTable::protect`]: check the whole range, then re-encode its leaves with new flags.

use super::address::{entry_size, VirtualRange};
use super::walk::{check_covered, classify, entries_in, visit_leaves, Slot};
use super::{MapError, PageTable, PageTableFormat, PhysicalAccess};
use crate::PageFlags;

impl<F: PageTableFormat> PageTable<F> {
    /// Gives every leaf in the `size` bytes at `virtual_start` the permissions and memory
    /// type `flags`, keeping its physical address and size, and calls
    /// `on_changed(virtual_start)` for each leaf whose entry changed (so the kernel can
    /// invalidate its TLB entry). A zero `size` changes nothing.
    ///
    /// Refused, with nothing changed: [`MapError::Misaligned`], [`MapError::Overflow`],
    /// [`MapError::NonCanonical`], [`MapError::NotMapped`],
    /// [`MapError::WouldSplitLargePage`] (as for [`unmap`](Self::unmap)) and
    /// [`MapError::Encode`] (the format refuses `flags` for some leaf).
    ///
    /// # Panics
    ///
    /// If the format encodes the same leaf differently twice, which breaks the invariant the
    /// check relies on.
    pub fn protect(
        &mut self,
        memory: &mut impl PhysicalAccess,
        virtual_start: u64,
        size: u64,
        flags: PageFlags,
        mut on_changed: impl FnMut(u64),
    ) -> Result<(), MapError> {
        let Some(range) = VirtualRange::new(virtual_start, size)? else {
            return Ok(());
        };
        check_covered::<F>(memory, self.root, 0, range)?;
        visit_leaves::<F, MapError>(memory, self.root, 0, range, &mut |leaf| {
            F::encode_leaf(leaf.physical, flags, leaf.level)?;
            Ok(())
        })?;
        rewrite::<F>(memory, self.root, 0, range, flags, &mut on_changed);
        Ok(())
    }
}

/// Re-encodes every leaf translating part of `range` under `table` (at `level`).
fn rewrite<F: PageTableFormat>(
    memory: &mut impl PhysicalAccess,
    table: u64,
    level: usize,
    range: VirtualRange,
    flags: PageFlags,
    on_changed: &mut impl FnMut(u64),
) {
    for (index, start) in entries_in(range, level) {
        let entry = memory.read_entry(table, index);
        match classify::<F>(entry, level) {
            Slot::Leaf(physical, _) => {
                let Ok(new_entry) = F::encode_leaf(physical, flags, level) else {
                    panic!("a leaf the check encoded encodes again");
                };
                if new_entry != entry {
                    memory.write_entry(table, index, new_entry);
                    on_changed(start);
                }
            }
            Slot::Table(next) => {
                let inner = range.clamp(start, entry_size(level));
                rewrite::<F>(memory, next, level + 1, inner, flags, on_changed);
            }
            // `check_covered` found leaves everywhere in the range.
            Slot::Empty | Slot::Unknown => {}
        }
    }
}
