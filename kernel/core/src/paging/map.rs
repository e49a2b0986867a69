//! [`PageTable::map`]: check the whole request, reserve every table it needs, then write.
//!
//! Mapping never fails halfway. A dry run over the planned leaves encodes each one and counts
//! the tables that do not exist yet; that many frames are then reserved (linked through their
//! first entry, so no allocation is needed to hold them). If a frame is missing the reserved
//! ones go back and nothing was written; otherwise the writes that follow cannot fail.

use super::address::{check_physical, entry_size, VirtualRange, LAST_LEVEL, LEVELS};
use super::walk::{any_occupied, classify, Slot};
use super::{MapError, PageSizes, PageTable, PageTableFormat, PhysicalAccess, TableFrames};
use crate::PageFlags;

/// One leaf the mapping will write.
#[derive(Clone, Copy)]
struct PlannedLeaf {
    virtual_start: u64,
    physical: u64,
    level: usize,
}

impl<F: PageTableFormat> PageTable<F> {
    /// Maps the `size` bytes at `virtual_start` to those at `physical_start` with `flags`.
    ///
    /// Both addresses and `size` must be multiples of 4 KiB; a zero `size` maps nothing. With
    /// [`PageSizes::Any`] each step uses the largest leaf (1 GiB, 2 MiB, else 4 KiB) to which
    /// both addresses are aligned and which the rest of the range fills, unless a table
    /// already sits in that leaf's place; with [`PageSizes::Small`] only 4 KiB leaves.
    ///
    /// Refused, with nothing changed and no frame kept: [`MapError::Misaligned`],
    /// [`MapError::Overflow`] (either range wraps), [`MapError::NonCanonical`],
    /// [`MapError::AlreadyMapped`] (any page of the range is mapped),
    /// [`MapError::Encode`] (the format refuses a leaf) and [`MapError::OutOfFrames`].
    ///
    /// # Panics
    ///
    /// If `memory` changes under the call, or the format encodes the same leaf differently
    /// twice: both break the invariants the dry run relies on.
    #[allow(
        clippy::too_many_arguments,
        reason = "each argument is one plain fact of the request; a struct would only rename them"
    )]
    pub fn map(
        &mut self,
        memory: &mut impl PhysicalAccess,
        frames: &mut impl TableFrames,
        virtual_start: u64,
        physical_start: u64,
        size: u64,
        flags: PageFlags,
        page_sizes: PageSizes,
    ) -> Result<(), MapError> {
        let range = VirtualRange::new(virtual_start, size)?;
        check_physical(physical_start, size)?;
        let Some(range) = range else {
            return Ok(());
        };
        if any_occupied::<F>(memory, self.root, 0, range) {
            return Err(MapError::AlreadyMapped);
        }
        let mut new_tables = NewTables::default();
        self.plan(
            memory,
            range,
            physical_start,
            page_sizes,
            |_, tables, leaf| {
                F::encode_leaf(leaf.physical, flags, leaf.level)?;
                new_tables.count(tables, leaf);
                Ok(())
            },
        )?;
        let mut reserved = Reserved::take(memory, frames, new_tables.total)?;
        self.plan(
            memory,
            range,
            physical_start,
            page_sizes,
            |memory, _, leaf| {
                self.write_leaf(memory, &mut reserved, leaf, flags);
                Ok(())
            },
        )?;
        reserved.give_back(memory, frames);
        Ok(())
    }

    /// Calls `step` with the tables on the path and the leaf for each step of the mapping,
    /// in address order, stopping at the first error.
    fn plan<M: PhysicalAccess>(
        &self,
        memory: &mut M,
        range: VirtualRange,
        physical_start: u64,
        page_sizes: PageSizes,
        mut step: impl FnMut(&mut M, [Option<u64>; LEVELS], PlannedLeaf) -> Result<(), MapError>,
    ) -> Result<(), MapError> {
        let mut offset = 0;
        while offset < range.size() {
            let virtual_start = range.first + offset;
            let physical = physical_start + offset;
            let tables = self.path(memory, virtual_start);
            let remaining = range.size() - offset;
            let level = (1..LAST_LEVEL)
                .find(|&level| {
                    let size = entry_size(level);
                    page_sizes == PageSizes::Any
                        && virtual_start.is_multiple_of(size)
                        && physical.is_multiple_of(size)
                        && remaining >= size
                        && tables[level].is_none_or(|table| {
                            let index = super::index_of(virtual_start, level);
                            matches!(
                                classify::<F>(memory.read_entry(table, index), level),
                                Slot::Empty
                            )
                        })
                })
                .unwrap_or(LAST_LEVEL);
            let leaf = PlannedLeaf {
                virtual_start,
                physical,
                level,
            };
            step(memory, tables, leaf)?;
            offset += entry_size(level);
        }
        Ok(())
    }

    /// The tables on the path to `virtual_address`: the root, then each table that exists.
    fn path(&self, memory: &impl PhysicalAccess, virtual_address: u64) -> [Option<u64>; LEVELS] {
        let mut tables = [None; LEVELS];
        tables[0] = Some(self.root);
        for level in 0..LAST_LEVEL {
            tables[level + 1] = tables[level].and_then(|table| {
                let entry = memory.read_entry(table, super::index_of(virtual_address, level));
                match classify::<F>(entry, level) {
                    Slot::Table(next) => Some(next),
                    _ => None,
                }
            });
        }
        tables
    }

    /// Writes one planned leaf, linking in reserved tables where the path has none.
    fn write_leaf(
        &self,
        memory: &mut impl PhysicalAccess,
        reserved: &mut Reserved,
        leaf: PlannedLeaf,
        flags: PageFlags,
    ) {
        let mut table = self.root;
        for level in 0..leaf.level {
            let index = super::index_of(leaf.virtual_start, level);
            table = match classify::<F>(memory.read_entry(table, index), level) {
                Slot::Table(next) => next,
                Slot::Empty => {
                    let next = reserved.take_one(memory);
                    memory.write_entry(table, index, F::encode_table(next));
                    next
                }
                Slot::Leaf(..) | Slot::Unknown => panic!("page table changed during map"),
            };
        }
        let entry = F::encode_leaf(leaf.physical, flags, leaf.level)
            .expect("a leaf the dry run encoded encodes again");
        memory.write_entry(
            table,
            super::index_of(leaf.virtual_start, leaf.level),
            entry,
        );
    }
}

/// The tables a mapping must create, counted during the dry run.
#[derive(Default)]
struct NewTables {
    total: usize,
    /// For each level, which table span (virtual address / span size) was last counted new.
    last_counted: [Option<u64>; LEVELS],
}

impl NewTables {
    /// Counts the missing tables on the path to `leaf`, each table once.
    ///
    /// Leaves come in address order, so the leaves under one new table are consecutive and
    /// remembering the last new table per level is enough.
    fn count(&mut self, tables: [Option<u64>; LEVELS], leaf: PlannedLeaf) {
        let missing = tables.iter().zip(&mut self.last_counted).enumerate();
        for (level, (table, last_counted)) in missing.take(leaf.level + 1).skip(1) {
            let span = leaf.virtual_start / entry_size(level - 1);
            if table.is_none() && *last_counted != Some(span) {
                *last_counted = Some(span);
                self.total += 1;
            }
        }
    }
}

/// Frames reserved for new tables, chained through their entry 0 (zeroed again on the way out).
struct Reserved {
    head: u64,
    count: usize,
}

impl Reserved {
    /// Reserves `count` frames, or none at all and [`MapError::OutOfFrames`].
    fn take(
        memory: &mut impl PhysicalAccess,
        frames: &mut impl TableFrames,
        count: usize,
    ) -> Result<Self, MapError> {
        let mut reserved = Reserved { head: 0, count: 0 };
        while reserved.count < count {
            let Some(frame) = frames.allocate_table() else {
                reserved.give_back(memory, frames);
                return Err(MapError::OutOfFrames);
            };
            memory.write_entry(frame, 0, reserved.head);
            reserved.head = frame;
            reserved.count += 1;
        }
        Ok(reserved)
    }

    /// One reserved frame, zeroed again.
    ///
    /// # Panics
    ///
    /// When none is left: the dry run counted too few.
    fn take_one(&mut self, memory: &mut impl PhysicalAccess) -> u64 {
        assert!(self.count > 0, "map reserved too few tables");
        let frame = self.head;
        self.head = memory.read_entry(frame, 0);
        memory.write_entry(frame, 0, 0);
        self.count -= 1;
        frame
    }

    /// Frees the frames still reserved.
    fn give_back(mut self, memory: &mut impl PhysicalAccess, frames: &mut impl TableFrames) {
        while self.count > 0 {
            let frame = self.take_one(memory);
            frames.free_table(frame);
        }
    }
}
