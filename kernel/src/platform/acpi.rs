//! ACPI at boot: the RSDP the boot protocol named, read through the early linear map.
//!
//! This runs before the kernel heap exists, so nothing here allocates; the parsing itself
//! lives in the host-tested `acpi-tables` crate. Physical memory is read through
//! [`Arch::physical_to_virtual`], which at this point covers only the first 4 GiB (both ports'
//! early page tables). The `acpi` crate maps every table the root table lists while it
//! searches, so one listed table above 4 GiB makes the whole set unreadable: that is logged
//! and every fallback applies (on q35 and virt all tables lie far below).

use crate::arch::{Arch, Cpu};
use acpi::{AcpiHandler, PhysicalMapping};
use acpi_tables::{AcpiInfo, Summary, TableError, TableMemory};
use core::ptr::NonNull;
use kernel_core::machine::MachineDescription;
use log::{error, info, warn};

/// The physical memory the early page tables map when `Platform::discover` runs.
const EARLY_MAPPED: u64 = 4 << 30;

/// Physical memory through the kernel's linear map.
#[derive(Clone, Copy)]
struct LinearMap;

impl AcpiHandler for LinearMap {
    unsafe fn map_physical_region<T>(
        &self,
        physical_address: usize,
        size: usize,
    ) -> PhysicalMapping<Self, T> {
        let virtual_address = Cpu::physical_to_virtual(physical_address as u64);
        // `readable` refuses an address the linear map puts at null, and `acpi-tables` maps
        // only what it accepted: the dangling pointer is never produced.
        let pointer = NonNull::new(virtual_address as *mut T).unwrap_or(NonNull::dangling());
        // SAFETY: the linear map is permanent and `acpi-tables` asks only for ranges
        // `readable` accepted, which the early tables map.
        unsafe { PhysicalMapping::new(physical_address, pointer, size, size, *self) }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}
}

impl TableMemory for LinearMap {
    fn readable(&self, physical: u64, length: u64) -> bool {
        Cpu::physical_to_virtual(physical) != 0
            && physical
                .checked_add(length)
                .is_some_and(|end| end <= EARLY_MAPPED)
    }
}

/// Reads the ACPI tables at `rsdp` into `machine`, logging what was found; on a bad RSDP or
/// root table logs one error and leaves `machine` as it was.
pub fn read(rsdp: u64, machine: &mut MachineDescription) {
    // SAFETY: firmware tables lie in memory nobody writes during boot, and `LinearMap`
    // calls readable only what the early linear map covers.
    match unsafe { acpi_tables::read(LinearMap, rsdp, machine) } {
        Ok(found) => log_found(&found),
        Err(reason) => error!("ACPI: RSDP at {rsdp:#x} unusable ({reason}); no ACPI facts"),
    }
}

fn log_found(found: &AcpiInfo) {
    let root = core::str::from_utf8(&found.root.0).unwrap_or("?");
    info!(
        "ACPI: RSDP at {:#x}, revision {}, OEM \"{}\", {} at {:#x}:",
        found.rsdp,
        found.revision,
        core::str::from_utf8(&found.oem_id)
            .unwrap_or("?")
            .trim_end(),
        root,
        found.root.1
    );
    for table in found.tables() {
        info!(
            "  {} at {:#x}, {} bytes",
            core::str::from_utf8(&table.signature).unwrap_or("????"),
            table.address,
            table.length
        );
    }
    if found.unlisted > 0 {
        info!("  ... and {} more", found.unlisted);
    }
    log_table("MCFG", found.mcfg);
    log_table("MADT", found.madt);
    if found.dmar != Err(TableError::Missing) {
        log_table("DMAR", found.dmar);
    }
}

/// One line per table the kernel reads: how many entries it kept, or why it kept none.
fn log_table(name: &str, result: Result<Summary, TableError>) {
    match result {
        Ok(summary) if summary.dropped > 0 => warn!(
            "ACPI: {name}: kept {} entries, dropped {} (the machine description is full)",
            summary.kept, summary.dropped
        ),
        Ok(Summary { kept: 1, .. }) => info!("ACPI: {name}: 1 entry"),
        Ok(summary) => info!("ACPI: {name}: {} entries", summary.kept),
        Err(reason) => warn!("ACPI: {name} {reason}; its facts fall back"),
    }
}
