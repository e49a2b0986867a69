//! [`PageTable`]: one tree of tables, its root, and the read-only walks over it.

use super::address::{
    entry_size, is_canonical, VirtualRange, LAST_LEVEL, LOWER_HALF_END, UPPER_HALF_START,
};
use super::walk::{classify, count_tables, visit_leaves, Slot};
use super::{MapError, PageTableFormat, PhysicalAccess, TableFrames};
use crate::PageFlags;
use core::convert::Infallible;
use core::fmt;
use core::marker::PhantomData;

/// Which leaf sizes [`PageTable::map`] may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PageSizes {
    /// 1 GiB and 2 MiB leaves wherever both addresses are aligned to the leaf size and
    /// enough of the range remains, 4 KiB elsewhere (the kernel's linear map).
    Any,
    /// Only 4 KiB leaves, so any page can later be unmapped or protected on its own.
    Small,
}

/// What [`PageTable::translate`] found for one virtual address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    /// The physical address the virtual address maps to, offset within the page included.
    pub physical: u64,
    /// The leaf's flags, as the format decodes them.
    pub flags: PageFlags,
    /// The size of the leaf: 4 KiB, 2 MiB or 1 GiB.
    pub page_size: u64,
    /// The raw leaf entry.
    pub entry: u64,
    /// The level holding the leaf: 1, 2 or 3.
    pub level: usize,
}

/// One present leaf, as [`PageTable::for_each_leaf`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// The first virtual address the leaf maps (canonical, so sign-extended in the upper half).
    pub virtual_start: u64,
    /// The physical address of the leaf's first byte.
    pub physical: u64,
    /// The size of the leaf: 4 KiB, 2 MiB or 1 GiB.
    pub page_size: u64,
    /// The leaf's flags, as the format decodes them.
    pub flags: PageFlags,
    /// The raw leaf entry.
    pub entry: u64,
    /// The level holding the leaf: 1, 2 or 3.
    pub level: usize,
}

/// A 4-level page-table tree in format `F`, named by the physical address of its root.
///
/// The value holds only the root's address: tables are read and written through a
/// [`PhysicalAccess`] and come from a [`TableFrames`] passed to each operation. The tree owns
/// its tables (every table reachable from the root) but never the frames its leaves map.
pub struct PageTable<F: PageTableFormat> {
    pub(super) root: u64,
    format: PhantomData<fn() -> F>,
}

impl<F: PageTableFormat> fmt::Debug for PageTable<F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PageTable")
            .field("root", &format_args!("{:#x}", self.root))
            .finish()
    }
}

impl<F: PageTableFormat> PageTable<F> {
    /// An empty tree with a freshly allocated (zeroed) root.
    pub fn new(frames: &mut impl TableFrames) -> Result<Self, MapError> {
        let root = frames.allocate_table().ok_or(MapError::OutOfFrames)?;
        Ok(Self::from_root(root))
    }

    /// The tree whose root table is at physical address `root` (for example the one boot
    /// code built). The tree then owns every table reachable from `root`.
    pub const fn from_root(root: u64) -> Self {
        PageTable {
            root,
            format: PhantomData,
        }
    }

    /// The physical address of the root table (what CR3 or TTBR holds).
    pub const fn root(&self) -> u64 {
        self.root
    }

    /// The leaf translating `virtual_address`, or `None` when it is unmapped or not canonical.
    pub fn translate(
        &self,
        memory: &impl PhysicalAccess,
        virtual_address: u64,
    ) -> Option<Translation> {
        if !is_canonical(virtual_address) {
            return None;
        }
        let mut table = self.root;
        for level in 0..=LAST_LEVEL {
            let entry = memory.read_entry(table, super::index_of(virtual_address, level));
            match classify::<F>(entry, level) {
                Slot::Table(next) => table = next,
                Slot::Leaf(physical, flags) => {
                    let page_size = entry_size(level);
                    return Some(Translation {
                        physical: physical + virtual_address % page_size,
                        flags,
                        page_size,
                        entry,
                        level,
                    });
                }
                Slot::Empty | Slot::Unknown => return None,
            }
        }
        None
    }

    /// Calls `visit` for every present leaf of the tree, lower half first, in address order.
    pub fn for_each_leaf(&self, memory: &impl PhysicalAccess, mut visit: impl FnMut(Leaf)) {
        let halves = [
            VirtualRange {
                first: 0,
                last: LOWER_HALF_END - 1,
            },
            VirtualRange {
                first: UPPER_HALF_START,
                last: u64::MAX,
            },
        ];
        for half in halves {
            let result = visit_leaves::<F, Infallible>(memory, self.root, 0, half, &mut |leaf| {
                visit(leaf);
                Ok(())
            });
            let Ok(()) = result;
        }
    }

    /// The number of tables in the tree, the root included.
    pub fn count_tables(&self, memory: &impl PhysicalAccess) -> usize {
        count_tables::<F>(memory, self.root, 0)
    }

    /// Frees every table of the tree, the root included, but none of the frames its leaves
    /// map. The caller must first make sure no CPU still uses the tree.
    pub fn destroy(self, memory: &impl PhysicalAccess, frames: &mut impl TableFrames) {
        free_tree::<F>(memory, frames, self.root, 0);
    }
}

/// Frees `table` (at `level`) and every table below it.
fn free_tree<F: PageTableFormat>(
    memory: &impl PhysicalAccess,
    frames: &mut impl TableFrames,
    table: u64,
    level: usize,
) {
    for index in 0..super::ENTRIES_PER_TABLE {
        if let Slot::Table(next) = classify::<F>(memory.read_entry(table, index), level) {
            free_tree::<F>(memory, frames, next, level + 1);
        }
    }
    frames.free_table(table);
}
