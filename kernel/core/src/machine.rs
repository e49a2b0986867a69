//! What the firmware tables say the machine is: PCI host bridges, interrupt controllers,
//! console, timer and power interface, each with the table it came from.
//!
//! x86_64 fills it from ACPI (MCFG, MADT), aarch64 from the device tree; a fact no table gave
//! is either absent or marked [`Source::Fallback`] with the documented default. The kernel
//! learns the machine once at boot and every later user (the PCI scan, the interrupt
//! controller driver, `sys:platform`) reads this one description. Fixed-capacity tables, so it
//! can be filled before the kernel heap exists.

use core::fmt;

/// The most PCI host bridges (ECAM windows) kept.
pub const MAX_PCI_HOSTS: usize = 4;
/// The most I/O APICs kept.
pub const MAX_IO_APICS: usize = 8;
/// The most interrupt source overrides kept.
pub const MAX_OVERRIDES: usize = 16;
/// The most CPUs kept.
pub const MAX_CPUS: usize = 64;
/// The most `ranges` windows kept per PCI host bridge.
pub const MAX_PCI_WINDOWS: usize = 4;
/// The most IOMMU units described.
pub const MAX_IOMMUS: usize = 4;

/// Where a fact came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// An ACPI table (the name says which).
    Acpi(&'static str),
    /// The device tree.
    DeviceTree,
    /// No table gave it: the documented default for the machine type was used.
    Fallback,
}

impl fmt::Display for Source {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Acpi(table) => {
                // ACPI signatures are upper case; `sys:platform` prints them lower case.
                formatter.write_str("acpi-")?;
                for character in table.chars() {
                    write!(formatter, "{}", character.to_ascii_lowercase())?;
                }
                Ok(())
            }
            Source::DeviceTree => formatter.write_str("device-tree"),
            Source::Fallback => formatter.write_str("fallback"),
        }
    }
}

/// A CPU-physical window a PCI host bridge forwards to PCI (a device-tree `ranges` entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciWindow {
    /// PCI space code from the `ranges` entry's high cell (1 I/O, 2 32-bit memory, 3 64-bit).
    pub space: u8,
    /// First PCI bus address.
    pub pci_base: u64,
    /// First CPU physical address.
    pub cpu_base: u64,
    /// Length in bytes.
    pub size: u64,
}

/// One PCI host bridge: the ECAM window through which its configuration space is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciHostBridge {
    /// Physical address bus 0's configuration space has in this window (MCFG's "base
    /// address"): bus `b` is at `ecam_base + b * 1 MiB`. A device tree's `reg` names bus
    /// `bus_start`'s address instead; its reader subtracts.
    pub ecam_base: u64,
    /// Length of the decoded part in bytes (1 MiB per bus, from `bus_start`).
    pub ecam_size: u64,
    /// PCI segment group.
    pub segment: u16,
    /// First bus number decoded.
    pub bus_start: u8,
    /// Last bus number decoded.
    pub bus_end: u8,
    /// Memory and I/O windows (device tree `ranges`), where the firmware described them.
    pub windows: [Option<PciWindow>; MAX_PCI_WINDOWS],
    /// Where the window was found.
    pub source: Source,
}

impl PciHostBridge {
    /// A bridge with no windows.
    pub const fn new(
        ecam_base: u64,
        ecam_size: u64,
        bus_start: u8,
        bus_end: u8,
        source: Source,
    ) -> Self {
        PciHostBridge {
            ecam_base,
            ecam_size,
            segment: 0,
            bus_start,
            bus_end,
            windows: [None; MAX_PCI_WINDOWS],
            source,
        }
    }
}

/// An I/O APIC (x86): where its registers are and the first global interrupt it serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoApic {
    /// Its APIC id.
    pub id: u8,
    /// Physical address of its register window.
    pub address: u64,
    /// The global system interrupt of its first input.
    pub interrupt_base: u32,
}

/// An ACPI interrupt source override: ISA IRQ `source` arrives as global interrupt `target`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterruptOverride {
    /// The ISA IRQ.
    pub source: u8,
    /// The global system interrupt it is wired to.
    pub target: u32,
    /// Active-low, if the table says so (otherwise the bus default).
    pub active_low: bool,
    /// Level-triggered, if the table says so (otherwise the bus default).
    pub level_triggered: bool,
}

/// The interrupt controller the machine has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterruptController {
    /// Nothing known.
    Unknown,
    /// x86 local APICs plus I/O APICs.
    Apic {
        /// Physical address of the local APIC's xAPIC register window.
        local_apic: u64,
    },
    /// Arm GICv2: distributor and memory-mapped CPU interface.
    GicV2 {
        /// Distributor (base, size).
        distributor: (u64, u64),
        /// CPU interface (base, size).
        cpu_interface: (u64, u64),
    },
    /// Arm GICv3: distributor and redistributors (CPU interface by system registers).
    GicV3 {
        /// Distributor (base, size).
        distributor: (u64, u64),
        /// Redistributor region (base, size).
        redistributor: (u64, u64),
    },
}

/// How PSCI calls are made (aarch64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsciConduit {
    /// `hvc #0`.
    Hypervisor,
    /// `smc #0`.
    SecureMonitor,
}

/// Everything the kernel learned about the machine from its tables.
#[derive(Clone, Copy, Debug)]
pub struct MachineDescription {
    /// PCI host bridges.
    pub pci_hosts: [Option<PciHostBridge>; MAX_PCI_HOSTS],
    /// The interrupt controller.
    pub interrupt_controller: InterruptController,
    /// Where the interrupt controller's description came from.
    pub interrupt_controller_source: Source,
    /// I/O APICs (x86).
    pub io_apics: [Option<IoApic>; MAX_IO_APICS],
    /// Interrupt source overrides (x86).
    pub overrides: [Option<InterruptOverride>; MAX_OVERRIDES],
    /// Interrupt-controller ids of the usable CPUs (local APIC ids; MPIDR affinity on aarch64).
    pub cpus: [Option<u64>; MAX_CPUS],
    /// The console UART (base, size), where the tables name one.
    pub console: Option<(u64, u64)>,
    /// The console UART's receive interrupt, where the tables name one (aarch64: the
    /// PL011's SPI from the device tree; x86_64's COM1 is ISA IRQ 4, which the CPU port knows).
    pub console_interrupt: Option<crate::interrupt::WiredLine>,
    /// The timer's interrupt (aarch64: the virtual timer's PPI as a GIC interrupt id).
    pub timer_interrupt: Option<u32>,
    /// PSCI conduit (aarch64).
    pub psci: Option<PsciConduit>,
    /// A GICv2m MSI frame (base, size), aarch64 with GICv2: PCI functions' MSI-X messages
    /// become SPIs through it.
    pub msi_frame: Option<(u64, u64)>,
    /// IOMMUs (ACPI DMAR DRHDs; device-tree `arm,smmu-v3` nodes).
    pub iommus: [Option<crate::iommu::IommuUnit>; MAX_IOMMUS],
}

impl Default for MachineDescription {
    fn default() -> Self {
        Self::new()
    }
}

impl MachineDescription {
    /// An empty description: nothing known yet.
    pub const fn new() -> Self {
        MachineDescription {
            pci_hosts: [None; MAX_PCI_HOSTS],
            interrupt_controller: InterruptController::Unknown,
            interrupt_controller_source: Source::Fallback,
            io_apics: [None; MAX_IO_APICS],
            overrides: [None; MAX_OVERRIDES],
            cpus: [None; MAX_CPUS],
            console: None,
            console_interrupt: None,
            timer_interrupt: None,
            psci: None,
            msi_frame: None,
            iommus: [None; MAX_IOMMUS],
        }
    }

    /// Adds a PCI host bridge; `false` (and nothing kept) when the table is full.
    pub fn push_pci_host(&mut self, host: PciHostBridge) -> bool {
        push(&mut self.pci_hosts, host)
    }

    /// Adds an I/O APIC; `false` when the table is full.
    pub fn push_io_apic(&mut self, io_apic: IoApic) -> bool {
        push(&mut self.io_apics, io_apic)
    }

    /// Adds an interrupt source override; `false` when the table is full.
    pub fn push_override(&mut self, entry: InterruptOverride) -> bool {
        push(&mut self.overrides, entry)
    }

    /// Adds a CPU; `false` when the table is full.
    pub fn push_cpu(&mut self, id: u64) -> bool {
        push(&mut self.cpus, id)
    }

    /// Adds an IOMMU unit; `false` when the table is full.
    pub fn push_iommu(&mut self, unit: crate::iommu::IommuUnit) -> bool {
        push(&mut self.iommus, unit)
    }

    /// The IOMMU units in order.
    pub fn iommus(&self) -> impl Iterator<Item = &crate::iommu::IommuUnit> {
        self.iommus.iter().flatten()
    }

    /// The PCI host bridges in order.
    pub fn pci_hosts(&self) -> impl Iterator<Item = &PciHostBridge> {
        self.pci_hosts.iter().flatten()
    }

    /// The I/O APICs in order.
    pub fn io_apics(&self) -> impl Iterator<Item = &IoApic> {
        self.io_apics.iter().flatten()
    }

    /// The interrupt source overrides in order.
    pub fn overrides(&self) -> impl Iterator<Item = &InterruptOverride> {
        self.overrides.iter().flatten()
    }

    /// The CPUs in order.
    pub fn cpus(&self) -> impl Iterator<Item = u64> + '_ {
        self.cpus.iter().flatten().copied()
    }

    /// The global interrupt an ISA IRQ arrives on, after the overrides.
    pub fn isa_interrupt(&self, irq: u8) -> u32 {
        self.overrides()
            .find(|entry| entry.source == irq)
            .map_or(u32::from(irq), |entry| entry.target)
    }

    /// Writes the description as `sys:platform` lines, one fact per line:
    /// `pci-ecam BASE SIZE BUS_START BUS_END SOURCE`, `interrupt-controller KIND ... SOURCE`,
    /// `io-apic ID ADDRESS GSI_BASE`, `override IRQ GSI [level] [active-low]` (each word only
    /// where the table departs from the ISA default, edge-triggered active-high), `cpu ID`,
    /// `console BASE SIZE`, `timer-interrupt ID`, `psci hvc|smc`,
    /// `iommu vt-d|smmuv3 BASE SIZE segment N [all]`. Numbers are hexadecimal with `0x`, except ids,
    /// bus numbers and interrupts, which are decimal.
    pub fn write_text(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        for host in self.pci_hosts() {
            writeln!(
                out,
                "pci-ecam {:#x} {:#x} {} {} {}",
                host.ecam_base, host.ecam_size, host.bus_start, host.bus_end, host.source
            )?;
        }
        let source = self.interrupt_controller_source;
        match self.interrupt_controller {
            InterruptController::Unknown => writeln!(out, "interrupt-controller unknown {source}")?,
            InterruptController::Apic { local_apic } => {
                writeln!(out, "interrupt-controller apic {local_apic:#x} {source}")?
            }
            InterruptController::GicV2 {
                distributor,
                cpu_interface,
            } => writeln!(
                out,
                "interrupt-controller gicv2 {:#x} {:#x} {:#x} {:#x} {source}",
                distributor.0, distributor.1, cpu_interface.0, cpu_interface.1
            )?,
            InterruptController::GicV3 {
                distributor,
                redistributor,
            } => writeln!(
                out,
                "interrupt-controller gicv3 {:#x} {:#x} {:#x} {:#x} {source}",
                distributor.0, distributor.1, redistributor.0, redistributor.1
            )?,
        }
        for io_apic in self.io_apics() {
            writeln!(
                out,
                "io-apic {} {:#x} {}",
                io_apic.id, io_apic.address, io_apic.interrupt_base
            )?;
        }
        for entry in self.overrides() {
            write!(out, "override {} {}", entry.source, entry.target)?;
            if entry.level_triggered {
                out.write_str(" level")?;
            }
            if entry.active_low {
                out.write_str(" active-low")?;
            }
            writeln!(out)?;
        }
        for id in self.cpus() {
            writeln!(out, "cpu {id}")?;
        }
        for unit in self.iommus() {
            let kind = match unit.kind {
                crate::iommu::IommuKind::VtD => "vt-d",
                crate::iommu::IommuKind::SmmuV3 => "smmuv3",
            };
            writeln!(
                out,
                "iommu {kind} {:#x} {:#x} segment {}{}",
                unit.registers,
                unit.size,
                unit.segment,
                if unit.include_all { " all" } else { "" }
            )?;
        }
        if let Some((base, size)) = self.console {
            writeln!(out, "console {base:#x} {size:#x}")?;
        }
        if let Some(id) = self.timer_interrupt {
            writeln!(out, "timer-interrupt {id}")?;
        }
        if let Some(conduit) = self.psci {
            let name = match conduit {
                PsciConduit::Hypervisor => "hvc",
                PsciConduit::SecureMonitor => "smc",
            };
            writeln!(out, "psci {name}")?;
        }
        Ok(())
    }
}

fn push<T>(table: &mut [Option<T>], value: T) -> bool {
    match table.iter_mut().find(|slot| slot.is_none()) {
        Some(slot) => {
            *slot = Some(value);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;

    #[test]
    fn text_names_every_fact_and_its_source() {
        let mut machine = MachineDescription::new();
        assert!(machine.push_pci_host(PciHostBridge::new(
            0xb000_0000,
            0x1000_0000,
            0,
            255,
            Source::Acpi("MCFG")
        )));
        machine.interrupt_controller = InterruptController::Apic {
            local_apic: 0xfee0_0000,
        };
        machine.interrupt_controller_source = Source::Acpi("APIC");
        machine.push_override(InterruptOverride {
            source: 0,
            target: 2,
            active_low: false,
            level_triggered: false,
        });
        machine.push_override(InterruptOverride {
            source: 9,
            target: 9,
            active_low: false,
            level_triggered: true,
        });
        let mut text = String::new();
        machine.write_text(&mut text).unwrap();
        assert!(text.contains("pci-ecam 0xb0000000 0x10000000 0 255 acpi-mcfg\n"));
        assert!(text.contains("interrupt-controller apic 0xfee00000 acpi-apic\n"));
        assert!(text.contains("override 0 2\n"));
        assert!(text.contains("override 9 9 level\n"));
        assert_eq!(machine.isa_interrupt(0), 2);
        assert_eq!(machine.isa_interrupt(4), 4);
    }

    #[test]
    fn full_tables_refuse_more() {
        let mut machine = MachineDescription::new();
        for id in 0..MAX_CPUS as u64 {
            assert!(machine.push_cpu(id));
        }
        assert!(!machine.push_cpu(99));
        assert_eq!(machine.cpus().count(), MAX_CPUS);
    }
}
