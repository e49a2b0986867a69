//! Tests of the machine queries: GIC, console, timer, PSCI, CPUs and PCI host bridges, on
//! trees shaped like QEMU `virt`'s (`gic-version=2` and `=3`).

use super::fixture::virt_tree;
use crate::platform::{DeviceTree, GicRegisters, PciRange, PsciMethod};
use vm_fdt::FdtWriter;

/// The phandle the PCI `interrupt-map` names.
const MAP_PARENT: u32 = 7;

/// QEMU `virt`'s timer, PSCI, CPU and PCIe nodes (highmem ECAM at 0x40_1000_0000).
fn virt_devices(writer: &mut FdtWriter, method: &str, with_pci: bool) {
    let timer = writer.begin_node("timer").unwrap();
    writer
        .property_string_list(
            "compatible",
            vec!["arm,armv8-timer".into(), "arm,armv7-timer".into()],
        )
        .unwrap();
    writer
        .property_array_u32(
            "interrupts",
            &[1, 13, 0x104, 1, 14, 0x104, 1, 11, 0x104, 1, 10, 0x104],
        )
        .unwrap();
    writer.end_node(timer).unwrap();

    let psci = writer.begin_node("psci").unwrap();
    writer
        .property_string_list("compatible", vec!["arm,psci-1.0".into(), "arm,psci".into()])
        .unwrap();
    writer.property_string("method", method).unwrap();
    writer.end_node(psci).unwrap();

    let cpus = writer.begin_node("cpus").unwrap();
    writer.property_u32("#address-cells", 1).unwrap();
    writer.property_u32("#size-cells", 0).unwrap();
    for id in [0u32, 1, 0x100] {
        let cpu = writer.begin_node(&format!("cpu@{id:x}")).unwrap();
        writer.property_string("device_type", "cpu").unwrap();
        writer.property_u32("reg", id).unwrap();
        if id == 1 {
            writer.property_string("status", "disabled").unwrap();
        }
        writer.end_node(cpu).unwrap();
    }
    writer.end_node(cpus).unwrap();

    if with_pci {
        let pcie = writer.begin_node("pcie@10000000").unwrap();
        writer
            .property_string("compatible", "pci-host-ecam-generic")
            .unwrap();
        writer.property_string("device_type", "pci").unwrap();
        writer.property_u32("#address-cells", 3).unwrap();
        writer.property_u32("#size-cells", 2).unwrap();
        writer.property_u32("linux,pci-domain", 0).unwrap();
        writer.property_array_u32("bus-range", &[0, 0xff]).unwrap();
        writer
            .property_array_u64("reg", &[0x40_1000_0000, 0x1000_0000])
            .unwrap();
        writer
            .property_array_u32(
                "ranges",
                &[
                    0x0100_0000,
                    0,
                    0,
                    0,
                    0x3eff_0000,
                    0,
                    0x1_0000, //
                    0x0200_0000,
                    0,
                    0x1000_0000,
                    0,
                    0x1000_0000,
                    0,
                    0x2eff_0000, //
                    0x4300_0000,
                    0x80,
                    0,
                    0x80,
                    0,
                    0x80,
                    0,
                ],
            )
            .unwrap();
        // QEMU virt's swizzle: device d, pin p (1..4) → SPI 3 + (d + p - 1) % 4, through a
        // controller with two address cells.
        let mut map = Vec::new();
        for device in 0..4u32 {
            for pin in 1..=4u32 {
                map.extend_from_slice(&[device << 11, 0, 0, pin, MAP_PARENT, 0, 0]);
                map.extend_from_slice(&[0, 3 + (device + pin - 1) % 4, 4]);
            }
        }
        writer.property_array_u32("interrupt-map", &map).unwrap();
        writer
            .property_array_u32("interrupt-map-mask", &[0x1800, 0, 0, 7])
            .unwrap();
        writer.end_node(pcie).unwrap();
        let parent = writer.begin_node("intc@8000001").unwrap();
        writer.property_null("interrupt-controller").unwrap();
        writer.property_u32("#address-cells", 2).unwrap();
        writer.property_u32("#interrupt-cells", 3).unwrap();
        writer.property_phandle(MAP_PARENT).unwrap();
        writer.end_node(parent).unwrap();
    }
}

/// Replaces the fixture's GICv3 node by `compatible` with two `reg` frames.
fn tree_with_gic(compatible: &str, frames: [u64; 4], method: &str, with_pci: bool) -> Vec<u8> {
    virt_tree(
        |_| {},
        |writer| {
            let gic = writer.begin_node("intc@8000000").unwrap();
            writer.property_string("compatible", compatible).unwrap();
            writer.property_null("interrupt-controller").unwrap();
            writer.property_u32("#interrupt-cells", 3).unwrap();
            writer.property_array_u64("reg", &frames).unwrap();
            writer.end_node(gic).unwrap();
            virt_devices(writer, method, with_pci);
        },
    )
}

#[test]
fn gic_v3_timer_psci_cpus_and_console() {
    let blob = virt_tree(|_| {}, |writer| virt_devices(writer, "hvc", false));
    let tree = DeviceTree::new(&blob).unwrap();
    // The fixture's GICv3 node has only a distributor frame: not usable.
    assert_eq!(tree.gic(), None);
    assert_eq!(tree.console_uart(), Some((0x900_0000, 0x1000)));
    assert_eq!(tree.virtual_timer_interrupt(), Some(27));
    assert_eq!(tree.psci_method(), Some(PsciMethod::Hvc));
    assert_eq!(tree.cpu_ids().collect::<Vec<_>>(), [0, 0x100]);
    assert_eq!(tree.pci_hosts().count(), 0);
}

#[test]
fn gic_versions_from_compatible() {
    let v3 = tree_with_gic(
        "arm,gic-v3",
        [0x800_0000, 0x1_0000, 0x80a_0000, 0xf6_0000],
        "smc",
        false,
    );
    let tree = DeviceTree::new(&v3).unwrap();
    // The fixture's own distributor-only node comes first and is skipped.
    assert_eq!(
        tree.gic(),
        Some(GicRegisters::V3 {
            distributor: (0x800_0000, 0x1_0000),
            redistributor: (0x80a_0000, 0xf6_0000),
        })
    );
    assert_eq!(tree.psci_method(), Some(PsciMethod::Smc));
    for name in ["arm,cortex-a15-gic", "arm,gic-400"] {
        let v2 = tree_with_gic(
            name,
            [0x800_0000, 0x1_0000, 0x801_0000, 0x1_0000],
            "hvc",
            false,
        );
        assert_eq!(
            DeviceTree::new(&v2).unwrap().gic(),
            Some(GicRegisters::V2 {
                distributor: (0x800_0000, 0x1_0000),
                cpu_interface: (0x801_0000, 0x1_0000),
            })
        );
    }
}

#[test]
fn pci_host_bridge_windows_and_bus_range() {
    let blob = tree_with_gic(
        "arm,cortex-a15-gic",
        [0x800_0000, 0x1_0000, 0x801_0000, 0x1_0000],
        "hvc",
        true,
    );
    let tree = DeviceTree::new(&blob).unwrap();
    let hosts: Vec<_> = tree.pci_hosts().collect();
    assert_eq!(hosts.len(), 1);
    let host = hosts[0];
    assert_eq!(host.config, (0x40_1000_0000, 0x1000_0000));
    assert_eq!((host.bus_start, host.bus_end, host.segment), (0, 255, 0));
    assert!(host.has_interrupt_map);
    assert_eq!(
        host.ranges[0],
        Some(PciRange {
            space: 1,
            prefetchable: false,
            pci_base: 0,
            cpu_base: 0x3eff_0000,
            size: 0x1_0000,
        })
    );
    assert_eq!(
        host.ranges[1],
        Some(PciRange {
            space: 2,
            prefetchable: false,
            pci_base: 0x1000_0000,
            cpu_base: 0x1000_0000,
            size: 0x2eff_0000,
        })
    );
    assert_eq!(
        host.ranges[2],
        Some(PciRange {
            space: 3,
            prefetchable: true,
            pci_base: 0x80_0000_0000,
            cpu_base: 0x80_0000_0000,
            size: 0x80_0000_0000,
        })
    );
    assert_eq!(host.ranges[3], None);
    // 00:01.0 INTA → SPI 4 (id 36); 00:05.0 INTB masks to device 1, pin 2 → SPI 5 (id 37).
    assert_eq!(tree.pci_interrupt(host.config.0, (0, 1, 0), 1), Some(36));
    assert_eq!(tree.pci_interrupt(host.config.0, (0, 5, 0), 2), Some(37));
    assert_eq!(
        tree.pci_interrupt(host.config.0, (0, 3, 0), 4),
        Some(32 + 3 + 2)
    );
    assert_eq!(
        tree.pci_interrupt(host.config.0, (0, 1, 0), 0),
        None,
        "no pin"
    );
    assert_eq!(
        tree.pci_interrupt(0x1234, (0, 1, 0), 1),
        None,
        "no such bridge"
    );
}

#[test]
fn missing_nodes_give_nothing() {
    let blob = virt_tree(|_| {}, |_| {});
    let tree = DeviceTree::new(&blob).unwrap();
    assert_eq!(tree.virtual_timer_interrupt(), None);
    assert_eq!(tree.psci_method(), None);
    assert_eq!(tree.cpu_ids().count(), 0);
    assert_eq!(tree.pci_hosts().count(), 0);
}
