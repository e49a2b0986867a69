//! MADT ("APIC"): the local APIC address, the CPUs, the I/O APICs and the ISA interrupt
//! overrides.

use crate::bytes::Bytes;
use crate::{Summary, TableError};
use kernel_core::machine::{
    InterruptController, InterruptOverride, IoApic, MachineDescription, Source,
};

/// The MADT's fixed part: the 36-byte header, the local APIC address and the flags.
const FIXED: usize = 44;

/// Entry types this reader understands (their minimum lengths are in `read_madt`).
const LOCAL_APIC: u8 = 0;
const IO_APIC: u8 = 1;
const INTERRUPT_OVERRIDE: u8 = 2;
const LOCAL_APIC_ADDRESS_OVERRIDE: u8 = 5;
const LOCAL_X2APIC: u8 = 9;

/// Local APIC flags bit 0: the CPU is enabled (usable now).
const ENABLED: u32 = 1;

/// Fills `machine`'s interrupt controller (local APIC address), CPUs, I/O APICs and
/// interrupt source overrides from the MADT in `table` (header included).
///
/// Only enabled processors become CPUs (online-capable ones are hot-plug candidates, which
/// the kernel does not support). Entry types it does not use (NMI sources, GIC entries...)
/// are skipped by their length; an entry whose length is shorter than its type needs or runs
/// past the table's end makes the whole table malformed, and nothing after it is trusted.
pub fn read_madt(table: &[u8], machine: &mut MachineDescription) -> Result<Summary, TableError> {
    let bytes = Bytes(crate::declared(table, FIXED)?);
    let mut local_apic = u64::from(bytes.u32(36).ok_or(TableError::Truncated)?);
    let mut summary = Summary::default();
    let mut offset = FIXED;
    while offset < bytes.0.len() {
        let bad = TableError::BadEntry { offset };
        let kind = bytes.u8(offset).ok_or(bad)?;
        let length = usize::from(bytes.u8(offset + 1).ok_or(bad)?);
        let entry = Bytes(bytes.slice(offset, length).ok_or(bad)?);
        let minimum = match kind {
            LOCAL_APIC => 8,
            IO_APIC | LOCAL_APIC_ADDRESS_OVERRIDE => 12,
            INTERRUPT_OVERRIDE => 10,
            LOCAL_X2APIC => 16,
            _ => 2,
        };
        if length < minimum {
            return Err(bad);
        }
        // The lengths were checked against `minimum`: these reads cannot fail.
        let mut read = || -> Option<()> {
            match kind {
                LOCAL_APIC if entry.u32(4)? & ENABLED != 0 => {
                    summary.count(machine.push_cpu(u64::from(entry.u8(3)?)))
                }
                LOCAL_X2APIC if entry.u32(8)? & ENABLED != 0 => {
                    summary.count(machine.push_cpu(u64::from(entry.u32(4)?)))
                }
                IO_APIC => summary.count(machine.push_io_apic(IoApic {
                    id: entry.u8(2)?,
                    address: u64::from(entry.u32(4)?),
                    interrupt_base: entry.u32(8)?,
                })),
                INTERRUPT_OVERRIDE => {
                    let flags = entry.u16(8)?;
                    summary.count(machine.push_override(InterruptOverride {
                        source: entry.u8(3)?,
                        target: entry.u32(4)?,
                        active_low: flags & 0b11 == 0b11,
                        level_triggered: (flags >> 2) & 0b11 == 0b11,
                    }));
                }
                LOCAL_APIC_ADDRESS_OVERRIDE => local_apic = entry.u64(4)?,
                _ => {}
            }
            Some(())
        };
        read().ok_or(bad)?;
        offset += length;
    }
    machine.interrupt_controller = InterruptController::Apic { local_apic };
    machine.interrupt_controller_source = Source::Acpi("APIC");
    Ok(summary)
}
