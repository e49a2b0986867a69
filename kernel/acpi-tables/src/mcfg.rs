//! MCFG: the PCI Express configuration windows (ECAM), one entry per segment and bus range.

use crate::bytes::Bytes;
use crate::{Summary, TableError};
use kernel_core::machine::{MachineDescription, PciHostBridge, Source};

/// The MCFG's fixed part: the 36-byte header and 8 reserved bytes.
const FIXED: usize = 44;
/// One configuration-space allocation entry.
const ENTRY: usize = 16;

/// Adds one [`PciHostBridge`] per MCFG entry to `machine`.
///
/// `table` is the whole table as the firmware wrote it (header included). A length that is
/// not a whole number of entries is rounded down, as Linux and the `acpi` crate do (some
/// firmware pads the table); an entry whose last bus precedes its first is refused.
pub fn read_mcfg(table: &[u8], machine: &mut MachineDescription) -> Result<Summary, TableError> {
    let bytes = Bytes(crate::declared(table, FIXED)?);
    let mut summary = Summary::default();
    let count = (bytes.0.len() - FIXED) / ENTRY;
    for index in 0..count {
        let offset = FIXED + index * ENTRY;
        let entry = (|| {
            Some((
                bytes.u64(offset)?,
                bytes.u16(offset + 8)?,
                bytes.u8(offset + 10)?,
                bytes.u8(offset + 11)?,
            ))
        })();
        let Some((base, segment, bus_start, bus_end)) = entry else {
            return Err(TableError::BadEntry { offset });
        };
        if bus_end < bus_start {
            return Err(TableError::BadEntry { offset });
        }
        let buses = u64::from(bus_end - bus_start) + 1;
        let mut host =
            PciHostBridge::new(base, buses << 20, bus_start, bus_end, Source::Acpi("MCFG"));
        host.segment = segment;
        summary.count(machine.push_pci_host(host));
    }
    Ok(summary)
}
