//! Finding the tables: the RSDP, the root table and the tables it lists, through the `acpi`
//! crate, after checking that everything it will touch lies in readable memory.

use crate::bytes::Bytes;
use crate::{read_dmar, read_madt, read_mcfg, Summary, TableError};
use acpi::madt::Madt;
use acpi::mcfg::Mcfg;
use acpi::{AcpiHandler, AcpiTables, PhysicalMapping};
use core::fmt;
use kernel_core::machine::MachineDescription;

/// The most root-table entries listed in [`AcpiInfo::tables`].
pub const MAX_TABLES: usize = 24;

/// The RSDP's length in ACPI 2.0 and later.
const RSDP_LENGTH: usize = 36;
/// Every system description table's header length.
const HEADER: usize = 36;
/// The MCFG's and the MADT's fixed part: header plus eight bytes.
const FIXED: usize = 44;

/// Physical memory the tables are read from: an [`AcpiHandler`] that also says which
/// ranges it can map.
pub trait TableMemory: AcpiHandler {
    /// Whether `[physical, physical + length)` is memory `map_physical_region` maps.
    fn readable(&self, physical: u64, length: u64) -> bool;
}

/// One table the root table lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableEntry {
    /// Its four-character signature.
    pub signature: [u8; 4],
    /// Its physical address.
    pub address: u64,
    /// Its length in bytes.
    pub length: u32,
}

/// What the ACPI tables were and what they gave.
#[derive(Clone, Copy, Debug)]
pub struct AcpiInfo {
    /// Physical address of the RSDP.
    pub rsdp: u64,
    /// The RSDP's revision (0: ACPI 1.0 with an RSDT; 2: ACPI 2.0+ with an XSDT).
    pub revision: u8,
    /// The RSDP's OEM id.
    pub oem_id: [u8; 6],
    /// The root table's signature (`XSDT` or `RSDT`) and physical address.
    pub root: ([u8; 4], u64),
    /// The tables the root table lists, in its order.
    pub tables: [Option<TableEntry>; MAX_TABLES],
    /// Tables listed beyond [`MAX_TABLES`].
    pub unlisted: usize,
    /// What the MCFG gave, or why it gave nothing.
    pub mcfg: Result<Summary, TableError>,
    /// What the MADT gave, or why it gave nothing.
    pub madt: Result<Summary, TableError>,
    /// What the DMAR (VT-d IOMMUs) gave, or why it gave nothing.
    pub dmar: Result<Summary, TableError>,
}

impl AcpiInfo {
    /// The listed tables in order.
    pub fn tables(&self) -> impl Iterator<Item = &TableEntry> {
        self.tables.iter().flatten()
    }
}

/// Why no ACPI facts could be read at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcpiError {
    /// The RSDP address is not in readable memory.
    RsdpUnreadable(u64),
    /// No `RSD PTR ` signature at the RSDP address.
    RsdpSignature,
    /// The RSDP's checksum or OEM id is wrong.
    RsdpChecksum,
    /// An ACPI 2.0 RSDP whose length is not 36 bytes.
    RsdpLength(u32),
    /// The root table, or a table it lists, is not in readable memory.
    TableUnreadable(u64),
    /// A table header whose length is shorter than the header itself.
    TableTruncated(u64),
    /// The root table failed the `acpi` crate's checks (signature, checksum, header fields).
    RootTable,
}

impl fmt::Display for AcpiError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcpiError::RsdpUnreadable(address) => {
                write!(formatter, "RSDP at {address:#x} is outside readable memory")
            }
            AcpiError::RsdpSignature => formatter.write_str("no RSDP signature"),
            AcpiError::RsdpChecksum => formatter.write_str("RSDP checksum or OEM id is wrong"),
            AcpiError::RsdpLength(length) => write!(formatter, "RSDP length {length} is not 36"),
            AcpiError::TableUnreadable(address) => {
                write!(
                    formatter,
                    "table at {address:#x} is outside readable memory"
                )
            }
            AcpiError::TableTruncated(address) => {
                write!(
                    formatter,
                    "table at {address:#x} is shorter than its header"
                )
            }
            AcpiError::RootTable => {
                formatter.write_str("root table (XSDT/RSDT) has a bad signature or checksum")
            }
        }
    }
}

/// Reads the ACPI tables from the RSDP at `rsdp`, adding what the MCFG and MADT say to
/// `machine`.
///
/// Before the `acpi` crate touches memory this checks that the RSDP, the root table and every
/// table the root lists lie where `memory` says it can read, so the crate's unchecked reads
/// stay inside them.
///
/// # Safety
/// `memory` must map every range it calls readable to memory that holds its bytes and that
/// nothing writes while this runs.
pub unsafe fn read<M: TableMemory>(
    memory: M,
    rsdp: u64,
    machine: &mut MachineDescription,
) -> Result<AcpiInfo, AcpiError> {
    // The RSDP: 20 bytes in ACPI 1.0, 36 from 2.0 on; the crate maps 36 either way.
    // SAFETY: the caller vouches for the memory `memory` calls readable; `with_bytes` checks.
    let (revision, oem_id, rsdt, length, xsdt) =
        unsafe { with_bytes(&memory, rsdp, RSDP_LENGTH, rsdp_fields) }
            .ok_or(AcpiError::RsdpUnreadable(rsdp))??;
    let root = if revision == 0 {
        (*b"RSDT", u64::from(rsdt))
    } else if length as usize != RSDP_LENGTH {
        return Err(AcpiError::RsdpLength(length));
    } else {
        (*b"XSDT", xsdt)
    };

    let root_length = table_length(&memory, root.1)?;
    let entry_size = if revision == 0 { 4 } else { 8 };
    let mut info = AcpiInfo {
        rsdp,
        revision,
        oem_id,
        root,
        tables: [None; MAX_TABLES],
        unlisted: 0,
        mcfg: Err(TableError::Missing),
        madt: Err(TableError::Missing),
        dmar: Err(TableError::Missing),
    };
    let entries = (root_length as usize - HEADER) / entry_size;
    for index in 0..entries {
        let offset = (HEADER + index * entry_size) as u64;
        // SAFETY: as above; the root table was found readable over its whole length.
        let address = unsafe {
            with_bytes(&memory, root.1 + offset, entry_size, |bytes| {
                if entry_size == 4 {
                    bytes.u32(0).map(u64::from)
                } else {
                    bytes.u64(0)
                }
            })
        }
        .flatten()
        .ok_or(AcpiError::TableUnreadable(root.1))?;
        let length = table_length(&memory, address)?;
        // SAFETY: as above; `table_length` found the header readable.
        let signature = unsafe {
            with_bytes(&memory, address, 4, |bytes| {
                bytes.slice(0, 4)?.try_into().ok()
            })
        }
        .flatten()
        .ok_or(AcpiError::TableUnreadable(address))?;
        let entry = TableEntry {
            signature,
            address,
            length,
        };
        match info.tables.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(entry),
            None => info.unlisted += 1,
        }
        // A table shorter than its fixed fields is not handed to the crate, whose table
        // types would then reach past its end.
        let verdict = if (length as usize) < FIXED {
            TableError::Truncated
        } else {
            TableError::Invalid
        };
        if signature == *b"MCFG" {
            info.mcfg = Err(verdict);
        } else if signature == *b"APIC" {
            info.madt = Err(verdict);
        }
    }

    // The crate does not know the DMAR: read it directly, checksum included.
    let dmar = info
        .tables()
        .find(|entry| entry.signature == *b"DMAR")
        .copied();
    if let Some(entry) = dmar {
        // SAFETY: every listed table was found readable over its declared length above.
        let read = unsafe {
            with_bytes(&memory, entry.address, entry.length as usize, |bytes| {
                if bytes
                    .0
                    .iter()
                    .fold(0u8, |sum, byte| sum.wrapping_add(*byte))
                    != 0
                {
                    Err(TableError::Invalid)
                } else {
                    read_dmar(bytes.0, machine)
                }
            })
        };
        info.dmar = read.unwrap_or(Err(TableError::Invalid));
    }
    // Everything the crate will read is now known to be readable: the RSDP, the root table
    // and each listed table over its declared length.
    // SAFETY: `rsdp` was checked readable over the 36 bytes `from_rsdp` maps.
    let tables =
        unsafe { AcpiTables::from_rsdp(memory, rsdp as usize) }.map_err(|error| match error {
            acpi::AcpiError::RsdpIncorrectSignature => AcpiError::RsdpSignature,
            acpi::AcpiError::RsdpInvalidChecksum | acpi::AcpiError::RsdpInvalidOemId => {
                AcpiError::RsdpChecksum
            }
            _ => AcpiError::RootTable,
        })?;
    if info.mcfg == Err(TableError::Invalid) {
        if let Ok(table) = tables.find_table::<Mcfg>() {
            info.mcfg = read_mcfg(mapped_bytes(&table), machine);
        }
    }
    if info.madt == Err(TableError::Invalid) {
        if let Ok(table) = tables.find_table::<Madt>() {
            info.madt = read_madt(mapped_bytes(&table), machine);
        }
    }
    Ok(info)
}

/// The RSDP's revision, OEM id, RSDT address, length and XSDT address (the last two mean
/// something only from revision 2 on), after its signature check.
fn rsdp_fields(bytes: Bytes<'_>) -> Result<(u8, [u8; 6], u32, u32, u64), AcpiError> {
    if bytes.slice(0, 8) != Some(b"RSD PTR ".as_slice()) {
        return Err(AcpiError::RsdpSignature);
    }
    let fields = (|| {
        Some((
            bytes.u8(15)?,
            bytes.slice(9, 6)?.try_into().ok()?,
            bytes.u32(16)?,
            bytes.u32(20)?,
            bytes.u64(24)?,
        ))
    })();
    fields.ok_or(AcpiError::RsdpSignature)
}

/// The length a table's header declares, after checking the header and the whole table are
/// readable and the length covers at least the header.
fn table_length<M: TableMemory>(memory: &M, address: u64) -> Result<u32, AcpiError> {
    // SAFETY: `with_bytes` maps only what `memory` calls readable.
    let length = unsafe { with_bytes(memory, address, HEADER, |bytes| bytes.u32(4)) }
        .flatten()
        .ok_or(AcpiError::TableUnreadable(address))?;
    if (length as usize) < HEADER {
        return Err(AcpiError::TableTruncated(address));
    }
    if !memory.readable(address, u64::from(length)) {
        return Err(AcpiError::TableUnreadable(address));
    }
    Ok(length)
}

/// Runs `read` over the `length` bytes at `physical`; `None` if `memory` cannot map them.
///
/// # Safety
/// As for [`read`]: what `memory` calls readable must be mapped and unchanging.
unsafe fn with_bytes<M: TableMemory, R>(
    memory: &M,
    physical: u64,
    length: usize,
    read: impl FnOnce(Bytes<'_>) -> R,
) -> Option<R> {
    if !memory.readable(physical, length as u64) || usize::try_from(physical).is_err() {
        return None;
    }
    // SAFETY: the range is readable (checked above, vouched for by the caller) and any
    // byte is a valid `u8`.
    let mapping = unsafe { memory.map_physical_region::<u8>(physical as usize, length) };
    Some(read(Bytes(mapped_bytes(&mapping))))
}

/// The bytes a mapping covers (a table's declared length, for the crate's table mappings).
fn mapped_bytes<H: AcpiHandler, T>(mapping: &PhysicalMapping<H, T>) -> &[u8] {
    // SAFETY: the handler mapped `region_length` readable bytes from `virtual_start`
    // (the `AcpiHandler` contract) for as long as the mapping lives, and the slice
    // borrows the mapping.
    unsafe {
        core::slice::from_raw_parts(
            mapping.virtual_start().as_ptr().cast::<u8>(),
            mapping.region_length(),
        )
    }
}
