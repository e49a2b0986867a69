//! DMAR: Intel VT-d DMA-remapping hardware units (DRHD structures), one IOMMU each.
//!
//! Only DRHDs are read (type 0): register base, segment, and whether the unit covers every
//! PCI device of its segment (`INCLUDE_PCI_ALL`). Reserved-memory (RMRR), ATSR and other
//! structures are skipped by their length. Each structure's length is checked against the
//! table's end and its type's minimum; a zero length stops with an error rather than a loop.

use crate::bytes::Bytes;
use crate::{Summary, TableError};
use kernel_core::iommu::{IommuKind, IommuUnit};
use kernel_core::machine::MachineDescription;

/// The DMAR's fixed part: the 36-byte header, host address width, flags, 10 reserved bytes.
const FIXED: usize = 48;
/// A remapping structure's type and length fields.
const STRUCTURE_HEADER: usize = 4;
/// Type of a DMA-remapping hardware unit definition.
const DRHD: u16 = 0;
/// A DRHD's fixed part (type, length, flags, size, segment, register base).
const DRHD_FIXED: usize = 16;
/// DRHD flag: the unit translates every PCI device of its segment not named elsewhere.
const INCLUDE_PCI_ALL: u8 = 1;
/// VT-d register block size when the DRHD's size field is zero (one 4 KiB page).
const PAGE: u64 = 4096;

/// Adds one [`IommuUnit`] of kind VT-d per DRHD in `table` (the whole DMAR, header included)
/// to `machine`.
pub fn read_dmar(table: &[u8], machine: &mut MachineDescription) -> Result<Summary, TableError> {
    let table = crate::declared(table, FIXED)?;
    let bytes = Bytes(table);
    let mut summary = Summary::default();
    let mut offset = FIXED;
    while offset < table.len() {
        let bad = TableError::BadEntry { offset };
        let kind = bytes.u16(offset).ok_or(bad)?;
        let length = usize::from(bytes.u16(offset + 2).ok_or(bad)?);
        if length < STRUCTURE_HEADER || offset + length > table.len() {
            return Err(bad);
        }
        if kind == DRHD {
            if length < DRHD_FIXED {
                return Err(bad);
            }
            let flags = bytes.u8(offset + 4).ok_or(bad)?;
            let size_field = bytes.u8(offset + 5).ok_or(bad)?;
            let segment = bytes.u16(offset + 6).ok_or(bad)?;
            let registers = bytes.u64(offset + 8).ok_or(bad)?;
            // The size field (VT-d 2.x+) says 2^N pages; older tables leave it zero.
            let size = PAGE << size_field.min(20);
            summary.count(machine.push_iommu(IommuUnit {
                kind: IommuKind::VtD,
                registers,
                size,
                segment,
                include_all: flags & INCLUDE_PCI_ALL != 0,
                interrupt: None,
            }));
        }
        offset += length;
    }
    Ok(summary)
}
