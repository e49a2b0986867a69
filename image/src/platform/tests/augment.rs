//! Tests of device-tree augmentation, on a fixture tree and on QEMU's own `virt` tree.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use fdt::node::FdtNode;
use fdt::Fdt;

use super::fixture::{plain_tree, virt_tree, virtio_device};
use crate::platform::{
    augment, augment_with, BusSpec, DeviceTree, Extras, PoolSpec, TEST_DEVICE_COMPATIBLE,
};
use crate::pool::Placement;

/// Every property of every node, keyed by `(node path, property name)`.
fn properties(blob: &[u8]) -> BTreeMap<(String, String), Vec<u8>> {
    fn walk(node: FdtNode<'_, '_>, path: &str, out: &mut BTreeMap<(String, String), Vec<u8>>) {
        for property in node.properties() {
            out.insert(
                (path.to_owned(), property.name.to_owned()),
                property.value.to_vec(),
            );
        }
        for child in node.children() {
            walk(child, &format!("{path}/{}", child.name), out);
        }
    }
    let fdt = Fdt::new(blob).unwrap();
    let mut out = BTreeMap::new();
    walk(fdt.find_node("/").unwrap(), "", &mut out);
    out
}

fn static_spec(path: &str) -> PoolSpec {
    PoolSpec {
        name: "dma-pool".into(),
        base: Some(0x4c00_0000),
        size: 0x10_0000,
        align: 0x1000,
        no_map: true,
        device_node_path: path.into(),
        device_name: "virtio-blk0".into(),
        default: false,
    }
}

fn dynamic_spec(path: &str, device: &str) -> PoolSpec {
    PoolSpec {
        name: format!("{device}-pool"),
        base: None,
        size: 0x20_0000,
        align: 0x1_0000,
        no_map: false,
        device_node_path: path.into(),
        device_name: device.into(),
        default: false,
    }
}

#[test]
fn augmented_fixture_keeps_everything_and_links_the_pools() {
    let base = virt_tree(
        |_| {},
        |writer| {
            virtio_device(writer, 0xa00_3e00, &[], None);
            virtio_device(writer, 0xa00_3c00, &[], None);
        },
    );
    let specs = [
        static_spec("/virtio_mmio@a003e00"),
        dynamic_spec("/virtio_mmio@a003c00", "virtio-net0"),
    ];
    let output = augment(&base, &specs).unwrap();

    let before = properties(&base);
    let after = properties(&output);
    for (key, value) in &before {
        assert_eq!(after.get(key), Some(value), "{key:?} changed or vanished");
    }
    let tree = DeviceTree::new(&output).unwrap();
    let original = DeviceTree::new(&base).unwrap();
    assert_eq!(
        tree.memory_reservations().collect::<Vec<_>>(),
        original.memory_reservations().collect::<Vec<_>>()
    );
    assert_eq!(tree.find_phandle(1).unwrap().name(), "intc@8000000");

    let pools: Vec<_> = tree.reserved_memory_pools().map(Result::unwrap).collect();
    assert_eq!(pools.len(), 2);
    assert_eq!(pools[0].name, "dma-pool@4c000000");
    assert_eq!(
        pools[0].placement,
        Placement::Static {
            base: 0x4c00_0000,
            size: 0x10_0000
        }
    );
    assert!(pools[0].no_map);
    assert_eq!(pools[0].devices().collect::<Vec<_>>(), ["virtio-blk0"]);
    assert_eq!(pools[1].name, "virtio-net0-pool");
    assert!(matches!(
        pools[1].placement,
        Placement::Dynamic {
            size: 0x20_0000,
            align: 0x1_0000,
            ..
        }
    ));
    assert_eq!(pools[1].devices().collect::<Vec<_>>(), ["virtio-net0"]);
    // Fresh phandles sit above the fixture's only phandle.
    assert_eq!(
        tree.find_node("/virtio_mmio@a003e00")
            .unwrap()
            .property_u32("memory-region"),
        Some(2)
    );
    assert_eq!(tree.memory_region_errors().count(), 0);
}

#[test]
fn two_pools_for_one_device_and_an_existing_reserved_memory() {
    let base = virt_tree(
        |writer| {
            let node = writer.begin_node("firmware@4f000000").unwrap();
            writer
                .property_array_u64("reg", &[0x4f00_0000, 0x1000])
                .unwrap();
            writer.end_node(node).unwrap();
        },
        |writer| virtio_device(writer, 0xa00_0000, &[], None),
    );
    let specs = [
        dynamic_spec("/virtio_mmio@a000000", "virtio-blk0"),
        PoolSpec {
            name: "second".into(),
            ..dynamic_spec("/virtio_mmio@a000000", "virtio-blk0")
        },
    ];
    let output = augment(&base, &specs).unwrap();
    let tree = DeviceTree::new(&output).unwrap();
    let names: Vec<_> = tree
        .find_node("/reserved-memory")
        .unwrap()
        .inner
        .children()
        .map(|node| node.name)
        .collect();
    assert_eq!(names, ["firmware@4f000000", "virtio-blk0-pool", "second"]);
    let device = tree.find_node("/virtio_mmio@a000000").unwrap();
    assert_eq!(
        device.property("memory-region"),
        Some(&[0, 0, 0, 2, 0, 0, 0, 3][..])
    );
    for pool in tree.reserved_memory_pools() {
        assert_eq!(pool.unwrap().devices().collect::<Vec<_>>(), ["virtio-blk0"]);
    }
}

#[test]
fn refusals_name_the_problem() {
    let base = virt_tree(
        |_| {},
        |writer| virtio_device(writer, 0xa00_0000, &[], Some("taken")),
    );
    let error = |spec: PoolSpec| augment(&base, &[spec]).unwrap_err();
    assert_eq!(
        error(static_spec("/nowhere@0")),
        "device node /nowhere@0 not found"
    );
    assert!(error(static_spec("/virtio_mmio@a000000")).contains("already has"));
    assert!(error(PoolSpec {
        size: 0x1800,
        ..static_spec("/x")
    })
    .contains("multiple of 4096"));
    assert!(error(PoolSpec {
        base: Some(0x800),
        ..static_spec("/x")
    })
    .contains("base must be"));
    assert!(error(PoolSpec {
        align: 3,
        ..dynamic_spec("/x", "d")
    })
    .contains("power of two"));
    assert!(error(PoolSpec {
        name: "bad name".into(),
        ..static_spec("/pl011@9000000")
    })
    .contains("pool bad name"));
    assert!(augment(b"not a tree", &[])
        .unwrap_err()
        .starts_with("base device tree"));
    // With no pools the tree comes back with only an empty /reserved-memory... which the
    // fixture already has, so nothing at all is added.
    let plain = plain_tree();
    assert_eq!(
        properties(&augment(&plain, &[]).unwrap()),
        properties(&plain)
    );
}

/// Dumps QEMU's own `virt` tree and augments it: the real input `xtask` will see.
#[test]
fn augments_qemu_virt_device_tree() {
    let qemu = "qemu-system-aarch64";
    if Command::new(qemu).arg("--version").output().is_err() {
        println!("note: {qemu} is not on PATH; skipping the QEMU device-tree test");
        return;
    }
    let directory =
        std::env::temp_dir().join(format!("coherent-image-test-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let dtb_path: PathBuf = directory.join("virt.dtb");
    let status = Command::new(qemu)
        .args(["-machine", &format!("virt,dumpdtb={}", dtb_path.display())])
        .args([
            "-cpu",
            "cortex-a57",
            "-m",
            "256M",
            "-nographic",
            "-display",
            "none",
        ])
        .status()
        .unwrap();
    assert!(status.success(), "QEMU failed to dump its device tree");
    let base = std::fs::read(&dtb_path).unwrap();
    std::fs::remove_dir_all(&directory).unwrap();

    let original = DeviceTree::new(&base).unwrap();
    let device = original.compatible_nodes("virtio,mmio").last().unwrap();
    let path = format!("/{}", device.name());
    assert_eq!(path, "/virtio_mmio@a003e00");
    let specs = [
        static_spec(&path),
        dynamic_spec("/virtio_mmio@a003c00", "virtio-net0"),
    ];
    let output = augment(&base, &specs).unwrap();

    let before = properties(&base);
    let after = properties(&output);
    for (key, value) in &before {
        assert_eq!(after.get(key), Some(value), "{key:?} changed or vanished");
    }
    // /reserved-memory: 3 properties; each pool: 4; each device: memory-region and name.
    assert_eq!(after.len(), before.len() + 3 + 4 + 4 + 2 * 2);
    let tree = DeviceTree::new(&output).unwrap();
    assert_eq!(
        tree.memory_regions().collect::<Vec<_>>(),
        [(0x4000_0000, 0x1000_0000)]
    );
    let pools: Vec<_> = tree.reserved_memory_pools().map(Result::unwrap).collect();
    assert_eq!(pools[0].devices().collect::<Vec<_>>(), ["virtio-blk0"]);
    assert_eq!(pools[1].devices().collect::<Vec<_>>(), ["virtio-net0"]);
    assert_eq!(tree.memory_region_errors().count(), 0);
    let uart = tree.compatible_nodes("arm,pl011").next().unwrap();
    assert_eq!(uart.first_reg(), Some((0x900_0000, 0x1000)));
    assert_eq!(uart.interrupts().unwrap().next().unwrap().cell(1), Some(1));
}

#[test]
fn extras_add_a_bus_with_dma_ranges_test_devices_and_a_default_pool() {
    let base = virt_tree(|_| {}, |_| {});
    let specs = [
        dynamic_spec("/dma-test-bus/dma-test0", "dma-test0"),
        PoolSpec {
            name: "global".into(),
            default: true,
            ..dynamic_spec("", "")
        },
    ];
    let extras = Extras {
        buses: vec![BusSpec {
            name: "dma-test-bus".into(),
            dma_ranges: vec![(0x1_4000_0000, 0x4000_0000, 0x1_0000_0000)],
            devices: vec!["dma-test0".into()],
        }],
        devices: vec!["dma-test1".into()],
    };
    let output = augment_with(&base, &specs, &extras).unwrap();
    let tree = DeviceTree::new(&output).unwrap();
    let pools: Vec<_> = tree.reserved_memory_pools().map(Result::unwrap).collect();
    assert_eq!(pools[0].devices().collect::<Vec<_>>(), ["dma-test0"]);
    assert!(!pools[0].default);
    assert_eq!(pools[1].devices().count(), 0);
    assert!(pools[1].default);
    let map = tree.dma_map_of("/dma-test-bus/dma-test0").unwrap();
    assert_eq!(map.phys_to_dma(0x4800_0000, 0x1000), Some(0x1_4800_0000));
    assert!(tree.dma_map_of("/dma-test1").unwrap().is_identity());
    assert!(tree
        .find_node("/dma-test1")
        .unwrap()
        .is_compatible(TEST_DEVICE_COMPATIBLE));
    assert_eq!(
        tree.pool_device_base("dma-test0-pool", 0x4800_0000, 0x20_0000),
        Ok(0x1_4800_0000)
    );
}
