//! Tests of the general readers: memory, reservations, `/chosen`, nodes and interrupts.

use super::fixture::{plain_tree, virt_tree, virtio_device};
use crate::platform::DeviceTree;

#[test]
fn memory_reservations_and_chosen() {
    let blob = plain_tree();
    let tree = DeviceTree::new(&blob).unwrap();
    assert_eq!(tree.total_size(), blob.len());
    assert_eq!(
        tree.memory_regions().collect::<Vec<_>>(),
        [(0x4000_0000, 0x1000_0000)]
    );
    assert_eq!(
        tree.memory_reservations().collect::<Vec<_>>(),
        [(0x4800_0000, 0x1000)]
    );
    // A 64-bit start and a 32-bit end, as boot loaders mix them.
    assert_eq!(tree.initrd(), Some((0x4400_0000, 0x4410_0000)));
    assert_eq!(tree.bootargs(), Some("console=ttyAMA0 quiet"));
    assert_eq!(tree.stdout_path(), Some("/pl011@9000000"));
    assert_eq!(tree.stdout().unwrap().name(), "pl011@9000000");
    assert!(format!("{tree:?}").contains("DeviceTree"));
}

#[test]
fn compatible_lookup_gives_reg_and_interrupts() {
    let blob = virt_tree(
        |_| {},
        |writer| {
            virtio_device(writer, 0xa00_0000, &[], None);
            virtio_device(writer, 0xa00_0200, &[], None);
        },
    );
    let tree = DeviceTree::new(&blob).unwrap();
    let uart = tree.compatible_nodes("arm,primecell").next().unwrap();
    assert_eq!(uart.name(), "pl011@9000000");
    assert!(uart.is_compatible("arm,pl011"));
    assert_eq!(
        uart.compatible().collect::<Vec<_>>(),
        ["arm,pl011", "arm,primecell"]
    );
    assert_eq!(uart.first_reg(), Some((0x900_0000, 0x1000)));
    assert_eq!(uart.interrupt_cells(), Some(3));
    let interrupts: Vec<_> = uart.interrupts().unwrap().collect();
    assert_eq!(interrupts.len(), 1);
    assert_eq!(interrupts[0].len(), 3);
    assert!(!interrupts[0].is_empty());
    assert_eq!(
        (
            interrupts[0].cell(0),
            interrupts[0].cell(1),
            interrupts[0].cell(2),
            interrupts[0].cell(3)
        ),
        (Some(0), Some(1), Some(4), None)
    );
    let virtio: Vec<_> = tree
        .compatible_nodes("virtio,mmio")
        .map(|node| (node.name(), node.first_reg().unwrap()))
        .collect();
    assert_eq!(
        virtio,
        [
            ("virtio_mmio@a000000", (0xa00_0000, 0x200)),
            ("virtio_mmio@a000200", (0xa00_0200, 0x200))
        ]
    );
    assert_eq!(tree.compatible_nodes("no,such").count(), 0);
    assert_eq!(
        tree.find_node("/chosen").unwrap().property_str("bootargs"),
        Some("console=ttyAMA0 quiet")
    );
    assert_eq!(tree.find_phandle(1).unwrap().name(), "intc@8000000");
    assert_eq!(
        tree.find_node("/intc@8000000")
            .unwrap()
            .property_u32("#interrupt-cells"),
        Some(3)
    );
    assert!(tree.nodes().count() >= 7);
}

#[test]
fn missing_chosen_and_memory_are_none_not_panics() {
    let mut writer = vm_fdt::FdtWriter::new().unwrap();
    let root = writer.begin_node("").unwrap();
    writer.end_node(root).unwrap();
    let blob = writer.finish().unwrap();
    let tree = DeviceTree::new(&blob).unwrap();
    assert_eq!(tree.memory_regions().count(), 0);
    assert_eq!(tree.memory_reservations().count(), 0);
    assert_eq!(tree.initrd(), None);
    assert_eq!(tree.bootargs(), None);
    assert!(tree.stdout().is_none());
    assert_eq!(tree.reserved_memory_pools().count(), 0);
    assert_eq!(tree.reserved_regions().count(), 0);
}
