//! Devices the device tree describes: every `virtio,mmio` node.
//!
//! A node carrying `coherent,device-name` (xtask adds it to the block device's node) is known
//! by that name; the others by their node name (`virtio_mmio@a000000`).

use super::{Device, Kind};
use alloc::string::String;
use image::platform::{DeviceTree, Node, DEVICE_NAME_PROPERTY};
use kernel_core::interrupt::Trigger;

/// GIC interrupt specifiers: `<type number flags>`, type 0 = shared (IDs from 32), 1 =
/// per-CPU (IDs from 16).
const GIC_SHARED_BASE: u32 = 32;
const GIC_PER_CPU_BASE: u32 = 16;

/// Appends every `virtio,mmio` node of `tree` to `devices`.
pub fn discover(tree: &DeviceTree<'_>, devices: &mut alloc::vec::Vec<Device>) {
    for node in tree.compatible_nodes("virtio,mmio") {
        let name = node
            .property_str(DEVICE_NAME_PROPERTY)
            .unwrap_or(node.name());
        devices.push(Device {
            name: String::from(name),
            kind: Kind::VirtioMmio,
            regions: node.reg().filter(|(_, size)| *size > 0).collect(),
            pci: None,
            interrupt: interrupt(&node),
            trigger: trigger(&node),
        });
    }
}

/// The node's first interrupt as an interrupt ID: GIC three-cell specifiers are translated,
/// a one-cell specifier is taken as it is.
fn interrupt(node: &Node<'_, '_>) -> Option<u32> {
    let first = node.interrupts()?.next()?;
    match first.len() {
        1 => first.cell(0),
        3.. => match first.cell(0)? {
            0 => first.cell(1)?.checked_add(GIC_SHARED_BASE),
            1 => first.cell(1)?.checked_add(GIC_PER_CPU_BASE),
            _ => None,
        },
        _ => None,
    }
}

/// The node's first interrupt's trigger: the GIC specifier's flags cell (bits 0..4: 1, 2 =
/// edge; 4, 8 = level), level when absent (the safe reading: the line is masked until
/// acknowledged either way).
fn trigger(node: &Node<'_, '_>) -> Trigger {
    let flags = node
        .interrupts()
        .and_then(|mut interrupts| interrupts.next())
        .filter(|first| first.len() >= 3)
        .and_then(|first| first.cell(2));
    match flags {
        Some(flags) if flags & 0b11 != 0 => Trigger::Edge,
        _ => Trigger::Level,
    }
}
