//! What an Arm machine's device tree says about its core hardware: interrupt controller, console
//! UART, timer interrupt, PSCI conduit, CPUs and PCI Express host bridges.
//!
//! These are the queries the aarch64 kernel turns into its machine description; they are pure
//! so the host tests reach them. Bindings read (as Linux reads them):
//! - GIC: the `interrupt-controller` node compatible with `arm,gic-v3` (`reg` = distributor,
//!   then the first redistributor region) or `arm,cortex-a15-gic` / `arm,gic-400` /
//!   `arm,cortex-a9-gic` (`reg` = distributor, CPU interface);
//! - console: the node `/chosen/stdout-path` names, else the first `arm,pl011`;
//! - timer: `arm,armv8-timer`'s `interrupts`, whose third specifier is the EL1 virtual timer;
//! - PSCI: `/psci` (or any `arm,psci*` node) `method`, `"hvc"` or `"smc"`;
//! - CPUs: `/cpus` children with `device_type = "cpu"`, `reg` = MPIDR affinity bits;
//! - PCI: `pci-host-ecam-generic` nodes: `reg` (the ECAM window from `bus-range`'s first bus),
//!   `bus-range`, `linux,pci-domain`, `ranges` (three PCI address cells), and its
//!   `interrupt-map` / `interrupt-map-mask` to route a function's INTx pin to a GIC interrupt
//!   ([`DeviceTree::pci_interrupt`]).
//!
//! The tree is read with the `fdt` crate through this module's own checked wrapper rather than
//! anything new: [`DeviceTree::new`] vets the blob first, the same module is host-tested and
//! also writes trees (`augment`), so one reader serves the kernel and the image tool.

use super::cells::{read_number, read_u32, CELL_BYTES};
use super::node::Node;
use super::tree::{node_cells, DeviceTree};

/// GIC interrupt ids of private peripheral interrupts start here.
pub const GIC_PPI_BASE: u32 = 16;
/// GIC interrupt ids of shared peripheral interrupts start here.
pub const GIC_SPI_BASE: u32 = 32;
/// The most `ranges` windows one host bridge reports.
pub const MAX_PCI_RANGES: usize = 4;

/// A GIC's register frames as `(base, size)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GicRegisters {
    /// GICv2: distributor and memory-mapped CPU interface.
    V2 {
        /// GICD.
        distributor: (u64, u64),
        /// GICC.
        cpu_interface: (u64, u64),
    },
    /// GICv3: distributor and (first) redistributor region.
    V3 {
        /// GICD.
        distributor: (u64, u64),
        /// GICR region.
        redistributor: (u64, u64),
    },
}

/// How PSCI is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsciMethod {
    /// `hvc #0`.
    Hvc,
    /// `smc #0`.
    Smc,
}

/// One `ranges` entry of a PCI host bridge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciRange {
    /// The space code (bits 24..26 of the first PCI cell): 1 I/O, 2 32-bit memory, 3 64-bit.
    pub space: u8,
    /// Prefetchable (bit 30 of the first PCI cell).
    pub prefetchable: bool,
    /// PCI bus address.
    pub pci_base: u64,
    /// CPU physical address.
    pub cpu_base: u64,
    /// Length in bytes.
    pub size: u64,
}

/// A `pci-host-ecam-generic` node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciHostNode {
    /// The `reg` window: configuration space of bus `bus_start` onwards, `(base, size)`.
    pub config: (u64, u64),
    /// First bus (`bus-range`, default 0).
    pub bus_start: u8,
    /// Last bus (`bus-range`, default 255).
    pub bus_end: u8,
    /// `linux,pci-domain`, default 0.
    pub segment: u16,
    /// The first [`MAX_PCI_RANGES`] `ranges` entries.
    pub ranges: [Option<PciRange>; MAX_PCI_RANGES],
    /// Whether the node has an `interrupt-map` (legacy INTx routing; see
    /// [`DeviceTree::pci_interrupt`]).
    pub has_interrupt_map: bool,
}

impl DeviceTree<'_> {
    /// The GIC, from the first interrupt controller with a known compatible string.
    pub fn gic(&self) -> Option<GicRegisters> {
        const V2: [&str; 3] = ["arm,cortex-a15-gic", "arm,gic-400", "arm,cortex-a9-gic"];
        self.nodes()
            .filter(|node| node.property("interrupt-controller").is_some())
            .find_map(|node| {
                let mut reg = node.reg();
                if node.is_compatible("arm,gic-v3") {
                    Some(GicRegisters::V3 {
                        distributor: reg.next()?,
                        redistributor: reg.next()?,
                    })
                } else if V2.iter().any(|name| node.is_compatible(name)) {
                    Some(GicRegisters::V2 {
                        distributor: reg.next()?,
                        cpu_interface: reg.next()?,
                    })
                } else {
                    None
                }
            })
    }

    /// The first GICv2m MSI frame's registers (`arm,gic-v2m-frame`, a child of the GIC
    /// node). The SPIs it serves are read from the frame itself (`MSI_TYPER`).
    pub fn gic_v2m_frame(&self) -> Option<(u64, u64)> {
        self.compatible_nodes("arm,gic-v2m-frame")
            .next()?
            .first_reg()
    }

    /// The console UART's registers: the `stdout-path` node's first `reg`, else the first
    /// `arm,pl011` node's.
    pub fn console_uart(&self) -> Option<(u64, u64)> {
        self.stdout()
            .and_then(|node| node.first_reg())
            .or_else(|| self.compatible_nodes("arm,pl011").next()?.first_reg())
    }

    /// The console UART's receive interrupt as (GIC interrupt id, edge-triggered): the first
    /// `interrupts` specifier `<type number flags>` of the node [`Self::console_uart`] reads
    /// (type 0: SPI, id = 32 + number; flags 1 or 2: edge, else level).
    pub fn console_uart_interrupt(&self) -> Option<(u32, bool)> {
        let node = self
            .stdout()
            .filter(|node| node.first_reg().is_some())
            .or_else(|| self.compatible_nodes("arm,pl011").next())?;
        let specifier = node.interrupts()?.next()?;
        if specifier.len() < 3 || specifier.cell(0)? != 0 {
            return None;
        }
        let id = specifier.cell(1)?.checked_add(GIC_SPI_BASE)?;
        Some((id, specifier.cell(2)? & 0b11 != 0))
    }

    /// The EL1 virtual timer's GIC interrupt id: the third `interrupts` specifier of the
    /// `arm,armv8-timer` (or `arm,armv7-timer`) node, `<type number flags>` with type 1 (PPI,
    /// id = 16 + number) or 0 (SPI, id = 32 + number).
    pub fn virtual_timer_interrupt(&self) -> Option<u32> {
        let node = self
            .compatible_nodes("arm,armv8-timer")
            .next()
            .or_else(|| self.compatible_nodes("arm,armv7-timer").next())?;
        let specifier = node.interrupts()?.nth(2)?;
        if specifier.len() < 2 {
            return None;
        }
        let base = match specifier.cell(0)? {
            0 => GIC_SPI_BASE,
            1 => GIC_PPI_BASE,
            _ => return None,
        };
        specifier.cell(1)?.checked_add(base)
    }

    /// `/psci`'s `method` (or the first `arm,psci*` node's).
    pub fn psci_method(&self) -> Option<PsciMethod> {
        let node = self.find_node("/psci").or_else(|| {
            self.nodes()
                .find(|node| node.compatible().any(|name| name.starts_with("arm,psci")))
        })?;
        match node.property_str("method")? {
            "hvc" => Some(PsciMethod::Hvc),
            "smc" => Some(PsciMethod::Smc),
            _ => None,
        }
    }

    /// The MPIDR affinity values (`reg`) of `/cpus`'s CPU nodes that are not disabled.
    pub fn cpu_ids(&self) -> impl Iterator<Item = u64> + '_ {
        let cpus = self.fdt.find_node("/cpus");
        let cells = cpus.as_ref().map_or(1, |node| node_cells(node).0);
        cpus.into_iter()
            .flat_map(|node| node.children())
            .map(|node| self.wrap(node))
            .filter(|node| {
                node.property_str("device_type") == Some("cpu")
                    && node.property_str("status") != Some("disabled")
            })
            .filter_map(move |node| read_number(node.property("reg")?, cells))
    }

    /// Every `pci-host-ecam-generic` host bridge with a usable `reg`.
    pub fn pci_hosts(&self) -> impl Iterator<Item = PciHostNode> + '_ {
        self.compatible_nodes("pci-host-ecam-generic")
            .filter_map(|node| pci_host(&node))
    }
}

/// Reads one host bridge node.
fn pci_host(node: &Node<'_, '_>) -> Option<PciHostNode> {
    let config = node.first_reg()?;
    let (bus_start, bus_end) = match node.property("bus-range") {
        Some(value) => (read_u32(value)?, read_u32(value.get(CELL_BYTES..)?)?),
        None => (0, 255),
    };
    let mut host = PciHostNode {
        config,
        bus_start: u8::try_from(bus_start).ok()?,
        bus_end: u8::try_from(bus_end.min(255)).ok()?,
        segment: node
            .property_u32("linux,pci-domain")
            .and_then(|domain| u16::try_from(domain).ok())
            .unwrap_or(0),
        ranges: [None; MAX_PCI_RANGES],
        has_interrupt_map: node.property("interrupt-map").is_some(),
    };
    let (child_cells, size_cells) = node_cells(&node.inner);
    let parent_cells = node.parent_address_cells();
    let entry = (child_cells + parent_cells + size_cells) * CELL_BYTES;
    if child_cells != 3 || entry == 0 {
        return Some(host);
    }
    let ranges = node.property("ranges").unwrap_or_default();
    for (slot, bytes) in host.ranges.iter_mut().zip(ranges.chunks_exact(entry)) {
        let flags = read_u32(bytes)?;
        let pci_base = read_number(&bytes[CELL_BYTES..], 2)?;
        let cpu_base = read_number(&bytes[3 * CELL_BYTES..], parent_cells)?;
        let size = read_number(&bytes[(3 + parent_cells) * CELL_BYTES..], size_cells)?;
        *slot = Some(PciRange {
            space: ((flags >> 24) & 3) as u8,
            prefetchable: flags & (1 << 30) != 0,
            pci_base,
            cpu_base,
            size,
        });
    }
    Some(host)
}

impl DeviceTree<'_> {
    /// The GIC interrupt id legacy interrupt `pin` (1 = INTA .. 4 = INTD) of PCI function
    /// `bus:device.function` raises, through the `pci-host-ecam-generic` node whose `reg`
    /// starts at `config_base`: its `interrupt-map` (masked by `interrupt-map-mask`) names the
    /// parent controller and specifier, which must be a GIC's `<type number flags>`.
    pub fn pci_interrupt(
        &self,
        config_base: u64,
        (bus, device, function): (u8, u8, u8),
        pin: u8,
    ) -> Option<u32> {
        let node = self
            .compatible_nodes("pci-host-ecam-generic")
            .find(|node| node.first_reg().map(|reg| reg.0) == Some(config_base))?;
        let map = node.property("interrupt-map")?;
        let child = [
            u32::from(bus) << 16 | u32::from(device & 31) << 11 | u32::from(function & 7) << 8,
            0,
            0,
            u32::from(pin),
        ];
        let mask: [u32; 4] = match node.property("interrupt-map-mask") {
            Some(value) => core::array::from_fn(|index| {
                read_u32(value.get(index * CELL_BYTES..).unwrap_or_default()).unwrap_or(0)
            }),
            None => [u32::MAX; 4],
        };
        let wanted: [u32; 4] = core::array::from_fn(|index| child[index] & mask[index]);
        let cell = |index: usize| read_u32(map.get(index * CELL_BYTES..)?);
        let total = map.len() / CELL_BYTES;
        let mut start = 0;
        while start + 5 < total {
            let parent = self.find_phandle(cell(start + 4)?)?;
            let address_cells = parent.property_u32("#address-cells").unwrap_or(0) as usize;
            let interrupt_cells = parent.property_u32("#interrupt-cells")? as usize;
            let specifier = start + 5 + address_cells;
            let matches = (0..4).all(|index| cell(start + index) == Some(wanted[index]));
            if matches && interrupt_cells >= 2 {
                let base = match cell(specifier)? {
                    0 => GIC_SPI_BASE,
                    1 => GIC_PPI_BASE,
                    _ => return None,
                };
                return cell(specifier + 1)?.checked_add(base);
            }
            start = specifier + interrupt_cells;
        }
        None
    }
}
