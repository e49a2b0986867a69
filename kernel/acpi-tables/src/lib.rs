//! The ACPI tables, read into the kernel's [`MachineDescription`] before the heap exists.
//!
//! The [`acpi`] crate finds the tables: it validates the RSDP, walks the XSDT (or the RSDT
//! on ACPI 1.0) and checksums each table it hands out. It is used without its `alloc`
//! features, so nothing here allocates. Its MCFG and MADT entry iterators trust the lengths
//! the firmware wrote (a zero-length MADT entry loops forever, a short table underflows), so
//! the entries are read by this crate's bounds-checked readers ([`read_mcfg`],
//! [`read_madt`], and [`read_dmar`] for the VT-d IOMMUs the crate does not know), which are plain functions over bytes and run on the host against fixture
//! tables.
//!
//! A malformed table is an error the caller logs, never a panic: a bad RSDP or root table
//! means no ACPI facts at all ([`AcpiError`]); a bad MCFG or MADT costs only the facts that
//! table gives ([`TableError`]). The kernel then falls back to the machine type's documented
//! defaults (see `kernel/src/platform/machine.rs`).
#![no_std]
#![deny(unsafe_code)]

mod bytes;
#[allow(
    unsafe_code,
    reason = "hands the acpi crate physical memory through its unsafe mapping interface"
)]
mod discover;
mod dmar;
mod madt;
mod mcfg;
#[cfg(test)]
#[allow(
    unsafe_code,
    reason = "the fixture memory implements the acpi crate's unsafe mapping interface"
)]
mod tests;

pub use discover::{read, AcpiError, AcpiInfo, TableEntry, TableMemory, MAX_TABLES};
pub use dmar::read_dmar;
pub use madt::read_madt;
pub use mcfg::read_mcfg;

use core::fmt;

/// Why one table's facts could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError {
    /// The root table does not list it.
    Missing,
    /// Listed, but the `acpi` crate refused it (bad checksum or header fields).
    Invalid,
    /// Its length is shorter than its fixed fields or longer than the bytes given.
    Truncated,
    /// The entry at this byte offset runs past the table's end or is shorter than its type
    /// needs.
    BadEntry {
        /// Offset of the entry from the start of the table.
        offset: usize,
    },
}

impl fmt::Display for TableError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableError::Missing => formatter.write_str("not present"),
            TableError::Invalid => formatter.write_str("bad checksum or header"),
            TableError::Truncated => formatter.write_str("truncated"),
            TableError::BadEntry { offset } => write!(formatter, "malformed entry at {offset:#x}"),
        }
    }
}

/// What one table contributed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Entries kept in the machine description.
    pub kept: usize,
    /// Entries dropped because the description's table of that kind was full.
    pub dropped: usize,
}

impl Summary {
    fn count(&mut self, kept: bool) {
        if kept {
            self.kept += 1;
        } else {
            self.dropped += 1;
        }
    }
}

/// The part of `table` its header's length field covers, if that is at least `fixed` bytes
/// and no more than `table` holds.
fn declared(table: &[u8], fixed: usize) -> Result<&[u8], TableError> {
    let length = bytes::Bytes(table).u32(4).ok_or(TableError::Truncated)? as usize;
    if length < fixed {
        return Err(TableError::Truncated);
    }
    table.get(..length).ok_or(TableError::Truncated)
}
