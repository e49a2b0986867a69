//! A generic 4-level page-table walker: map, unmap, protect and translate for any CPU format.
//!
//! Both CPUs coherent runs on share one shape: four levels of 512 eight-byte entries, a 4 KiB
//! granule and 48-bit virtual addresses. Level 0 is the root (x86 PML4, aarch64 L0) and level
//! 3 the last (x86 PT, aarch64 L3); leaves sit at level 1 (1 GiB), 2 (2 MiB) or 3 (4 KiB).
//! What differs is only the bits of an entry, which an arch crate supplies through
//! [`PageTableFormat`]. How tables are reached ([`PhysicalAccess`]) and where new tables come
//! from ([`TableFrames`]) are supplied by the kernel, or by the emulated memory of the host
//! tests (the approach of Redox's `rmm`).
//!
//! Every operation of [`PageTable`] checks the whole request before it changes anything: a
//! refused request leaves the tables bit-identical and no frame allocated or freed.
#![forbid(unsafe_code)]

mod address;
mod error;
mod format;
mod map;
mod memory;
mod protect;
mod table;
mod unmap;
mod walk;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;

pub use address::{
    entry_size, index_of, ENTRIES_PER_TABLE, LAST_LEVEL, LEVELS, LOWER_HALF_END, PAGE_SIZE,
    UPPER_HALF_START,
};
pub use error::{EncodeError, MapError};
pub use format::PageTableFormat;
pub use memory::{PhysicalAccess, TableFrames};
pub use table::{Leaf, PageSizes, PageTable, Translation};
