//! The machine description from the device tree (aarch64), with the CPU port's documented
//! defaults for whatever the tree leaves out.
//!
//! The queries themselves are pure and host-tested in `image::platform` (GIC from the
//! `interrupt-controller` node, console from `/chosen/stdout-path` or `arm,pl011`, the virtual
//! timer from `arm,armv8-timer`, PSCI from `/psci`, CPUs from `/cpus`, PCI host bridges from
//! `pci-host-ecam-generic`, SMMUv3 from `arm,smmu-v3` and the bridges' `iommu-map`); this module turns their answers into a
//! [`MachineDescription`]. A fact the tree does not give is logged as missing and taken from
//! `Arch::machine_defaults` (QEMU `virt`'s constants), marked `fallback`.

use crate::arch::{Arch, Cpu};
use image::platform::{DeviceTree, GicRegisters, PsciMethod};
use kernel_core::iommu::{IommuKind, IommuUnit};
use kernel_core::machine::{
    InterruptController, MachineDescription, PciHostBridge, PciWindow, PsciConduit, Source,
    MAX_PCI_WINDOWS,
};
use kernel_core::pci::BUS_SIZE;
use log::warn;

/// Fills `machine` from `tree`.
pub fn describe(tree: &DeviceTree<'_>, machine: &mut MachineDescription) {
    if let Some(gic) = tree.gic() {
        machine.interrupt_controller = match gic {
            GicRegisters::V2 {
                distributor,
                cpu_interface,
            } => InterruptController::GicV2 {
                distributor,
                cpu_interface,
            },
            GicRegisters::V3 {
                distributor,
                redistributor,
            } => InterruptController::GicV3 {
                distributor,
                redistributor,
            },
        };
        machine.interrupt_controller_source = Source::DeviceTree;
    }
    machine.msi_frame = tree.gic_v2m_frame();
    machine.console = tree.console_uart();
    machine.console_interrupt =
        tree.console_uart_interrupt()
            .map(|(number, edge)| kernel_core::interrupt::WiredLine {
                number,
                trigger: if edge {
                    kernel_core::interrupt::Trigger::Edge
                } else {
                    kernel_core::interrupt::Trigger::Level
                },
                polarity: kernel_core::interrupt::Polarity::ActiveHigh,
            });
    machine.timer_interrupt = tree.virtual_timer_interrupt();
    machine.psci = tree.psci_method().map(|method| match method {
        PsciMethod::Hvc => PsciConduit::Hypervisor,
        PsciMethod::Smc => PsciConduit::SecureMonitor,
    });
    for id in tree.cpu_ids() {
        if !machine.push_cpu(id) {
            warn!("platform: more CPUs in the device tree than the description keeps");
            break;
        }
    }
    for node in tree.pci_hosts() {
        // `reg` starts at bus `bus_start`; the description names bus 0's address.
        let ecam_base = node.config.0 - u64::from(node.bus_start) * BUS_SIZE;
        let mut host = PciHostBridge::new(
            ecam_base,
            node.config.1,
            node.bus_start,
            node.bus_end,
            Source::DeviceTree,
        );
        host.segment = node.segment;
        for (slot, range) in host
            .windows
            .iter_mut()
            .zip(node.ranges.iter().flatten())
            .take(MAX_PCI_WINDOWS)
        {
            *slot = Some(PciWindow {
                space: range.space,
                pci_base: range.pci_base,
                cpu_base: range.cpu_base,
                size: range.size,
            });
            log::info!(
                "platform: PCI window {} pci {:#x} cpu {:#x} size {:#x}{}",
                match range.space {
                    1 => "io",
                    2 => "mem32",
                    _ => "mem64",
                },
                range.pci_base,
                range.cpu_base,
                range.size,
                if range.prefetchable {
                    " prefetchable"
                } else {
                    ""
                }
            );
        }
        if node.has_interrupt_map {
            log::info!(
                "platform: PCI host bridge at {:#x} routes INTx through its interrupt-map",
                node.config.0
            );
        }
        if !machine.push_pci_host(host) {
            warn!("platform: more PCI host bridges in the device tree than the description keeps");
        }
    }
    describe_smmus(tree, machine);
}

/// Adds each `arm,smmu-v3` node as an IOMMU unit of the PCI segment whose `iommu-map` names
/// it. Only an identity `iommu-map` (stream id = requester id, QEMU `virt`'s) is supported:
/// the shared interface attaches devices by requester id; another map is logged and the unit
/// left out, so devices stay unconfined rather than confined under the wrong stream.
fn describe_smmus(tree: &DeviceTree<'_>, machine: &mut MachineDescription) {
    for smmu in tree.smmus() {
        let mut segment = None;
        let mut identity = true;
        for node in tree.pci_hosts() {
            for entry in tree.pci_iommu_map(node.config.0).into_iter().flatten() {
                if Some(entry.iommu) == smmu.phandle {
                    segment = Some(node.segment);
                    identity &= entry.rid_base == entry.stream_base;
                    log::info!(
                        "platform: SMMUv3 at {:#x} serves PCI segment {}: requester ids {:#x}..{:#x} are stream ids from {:#x}",
                        smmu.registers.0,
                        node.segment,
                        entry.rid_base,
                        u64::from(entry.rid_base) + u64::from(entry.length),
                        entry.stream_base
                    );
                }
            }
        }
        let Some(segment) = segment else {
            warn!(
                "platform: SMMUv3 at {:#x} translates no PCI bus (no iommu-map names it); left out",
                smmu.registers.0
            );
            continue;
        };
        if !identity {
            warn!(
                "platform: SMMUv3 at {:#x}: stream ids differ from requester ids, which is not supported; left out",
                smmu.registers.0
            );
            continue;
        }
        let unit = IommuUnit {
            kind: IommuKind::SmmuV3,
            registers: smmu.registers.0,
            size: smmu.registers.1,
            segment,
            include_all: true,
            interrupt: smmu.event_interrupt,
        };
        if !machine.push_iommu(unit) {
            warn!("platform: more IOMMUs in the device tree than the description keeps");
        }
    }
}

/// Takes from the CPU port's defaults each fact no table gave, saying so.
pub fn fill_defaults(machine: &mut MachineDescription) {
    let defaults = Cpu::machine_defaults();
    if machine.interrupt_controller == InterruptController::Unknown
        && defaults.interrupt_controller != InterruptController::Unknown
    {
        warn!("platform: no interrupt controller in the tables; using the machine type's default");
        machine.interrupt_controller = defaults.interrupt_controller;
        machine.interrupt_controller_source = Source::Fallback;
    }
    if machine.console.is_none() && defaults.console.is_some() {
        warn!("platform: no console UART in the tables; using the machine type's default");
        machine.console = defaults.console;
    }
    if machine.console_interrupt.is_none() && defaults.console_interrupt.is_some() {
        machine.console_interrupt = defaults.console_interrupt;
    }
    if machine.timer_interrupt.is_none() && defaults.timer_interrupt.is_some() {
        warn!("platform: no timer interrupt in the tables; using the machine type's default");
        machine.timer_interrupt = defaults.timer_interrupt;
    }
    if machine.psci.is_none() && defaults.psci.is_some() {
        warn!("platform: no PSCI method in the tables; using the one the entry level implies");
        machine.psci = defaults.psci;
    }
    if machine.cpus().next().is_none() {
        for id in defaults.cpus() {
            machine.push_cpu(id);
        }
    }
}
