//! The machine description: filled once at boot from the firmware tables, then published.
//!
//! Sources, in order: ACPI on machines whose boot protocol names an RSDP (x86_64, PVH: the
//! MCFG gives the PCI ECAM windows, the MADT the local APIC address, CPUs, I/O APICs and
//! interrupt source overrides), the device tree on machines that have one (aarch64,
//! `device_tree.rs`: GIC, console, timer interrupt, PSCI, CPUs, PCI host bridges; a fact it
//! lacks takes the CPU port's documented default, `Arch::machine_defaults`).
//!
//! Fallback: a missing or malformed table is logged (one line saying which and why) and
//! never stops the boot. With no usable MCFG the PCI host bridge is the CPU port's documented
//! default for the machine type (`Arch::pci_ecam`, the q35 ECAM window on x86_64), marked
//! `fallback` in the boot log and in `sys:platform`; with no usable MADT the interrupt
//! controller stays `unknown` and the CPU, I/O APIC and override tables stay empty (the x86
//! port finds its local APIC through IA32_APIC_BASE and ISA IRQs then map one to one). A bad
//! RSDP or root table means no ACPI facts at all, and every fallback applies.

use super::Platform;
use crate::arch::{Arch, Cpu};
use kernel_core::machine::{MachineDescription, PciHostBridge, Source};
use log::{info, warn};

/// The description `sys:platform` and later subsystems read.
static PUBLISHED: spin::Mutex<MachineDescription> = spin::Mutex::new(MachineDescription::new());

/// Makes `machine` the published description.
pub fn publish(machine: &MachineDescription) {
    *PUBLISHED.lock() = *machine;
}

/// The description learned at boot.
pub fn published() -> MachineDescription {
    *PUBLISHED.lock()
}

/// Learns the machine from its tables and logs what was found.
pub fn describe(platform: &Platform) -> MachineDescription {
    let mut machine = MachineDescription::new();
    if let Some(rsdp) = platform.boot.acpi_rsdp {
        super::acpi::read(rsdp, &mut machine);
    }
    if let Some(tree) = platform.device_tree() {
        super::device_tree::describe(&tree, &mut machine);
    }
    super::device_tree::fill_defaults(&mut machine);
    if machine.pci_hosts().next().is_none() {
        if let Some((base, size)) = Cpu::pci_ecam() {
            warn!("platform: no table names a PCI ECAM window; using the machine type's default");
            let buses = (size >> 20).clamp(1, 256) - 1;
            machine.push_pci_host(PciHostBridge::new(
                base,
                size,
                0,
                buses as u8,
                Source::Fallback,
            ));
        }
    }
    log_description(&machine);
    machine
}

/// Prints the description as a short table (before the heap exists: line by line).
fn log_description(machine: &MachineDescription) {
    info!("platform (from the firmware tables):");
    let mut lines = LineLogger {
        line: [0; LINE],
        length: 0,
    };
    let _ = machine.write_text(&mut lines);
}

/// The longest `sys:platform` line the boot log prints whole.
const LINE: usize = 160;

/// A `fmt::Write` that logs each complete line, indented, without allocating.
struct LineLogger {
    line: [u8; LINE],
    length: usize,
}

impl core::fmt::Write for LineLogger {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        for &byte in text.as_bytes() {
            if byte == b'\n' {
                info!(
                    "  {}",
                    core::str::from_utf8(&self.line[..self.length]).unwrap_or("?")
                );
                self.length = 0;
            } else if self.length < LINE {
                self.line[self.length] = byte;
                self.length += 1;
            }
        }
        Ok(())
    }
}
