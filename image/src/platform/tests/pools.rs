//! Tests of `/reserved-memory` pools: static, dynamic, flags, shared devices and bad nodes.

use super::fixture::{coherent_device, pool_node, virt_tree, virtio_device};
use crate::platform::{check_overlaps, DeviceTree, LayoutProblem, PoolNodeError, ReservedRegion};
use crate::pool::{Placement, PoolCache, PoolDeclaration};

fn pools(blob: &[u8]) -> Vec<Result<PoolDeclaration<'_>, PoolNodeError<'_>>> {
    DeviceTree::new(blob)
        .unwrap()
        .reserved_memory_pools()
        .collect()
}

#[test]
fn static_pool_linked_to_its_device() {
    let blob = virt_tree(
        |writer| {
            pool_node(writer, "dma-pool@4c000000", Some(10), |writer| {
                writer
                    .property_array_u64("reg", &[0x4c00_0000, 0x10_0000])
                    .unwrap();
            })
        },
        |writer| virtio_device(writer, 0xa00_3e00, &[10], None),
    );
    let pools = pools(&blob);
    let pool = pools[0].unwrap();
    assert_eq!(pool.name, "dma-pool@4c000000");
    assert_eq!(
        pool.placement,
        Placement::Static {
            base: 0x4c00_0000,
            size: 0x10_0000
        }
    );
    assert_eq!(pool.devices().collect::<Vec<_>>(), ["virtio_mmio@a003e00"]);
    assert!(!pool.no_map && !pool.reusable);
    assert_eq!(pool.device_offset, 0);
}

#[test]
fn a_pool_is_write_back_only_when_every_device_is_dma_coherent() {
    let size = |writer: &mut vm_fdt::FdtWriter| writer.property_u64("size", 0x1_0000).unwrap();
    let blob = virt_tree(
        |writer| {
            pool_node(writer, "coherent", Some(20), size);
            pool_node(writer, "mixed", Some(21), size);
            pool_node(writer, "plain", Some(22), size);
            pool_node(writer, "unused", Some(23), size);
        },
        |writer| {
            coherent_device(writer, 0xa00_0000, &[20, 21]);
            virtio_device(writer, 0xa00_0200, &[21], None);
            virtio_device(writer, 0xa00_0400, &[22], None);
        },
    );
    let caches: Vec<_> = pools(&blob)
        .iter()
        .map(|pool| pool.unwrap().cache)
        .collect();
    assert_eq!(
        caches,
        [
            PoolCache::WriteBack,
            PoolCache::WriteCombining,
            PoolCache::WriteCombining,
            PoolCache::WriteCombining
        ]
    );
}

#[test]
fn dynamic_pool_with_alignment_and_alloc_ranges() {
    let blob = virt_tree(
        |writer| {
            pool_node(writer, "dma-pool", Some(11), |writer| {
                writer.property_u64("size", 0x40_0000).unwrap();
                writer.property_u64("alignment", 0x1000).unwrap();
                writer
                    .property_array_u64(
                        "alloc-ranges",
                        &[0x4000_0000, 0x800_0000, 0x4a00_0000, 0x100_0000],
                    )
                    .unwrap();
            })
        },
        |writer| virtio_device(writer, 0xa00_3e00, &[11], Some("virtio-blk0")),
    );
    let pool = pools(&blob)[0].unwrap();
    assert_eq!(
        pool.placement,
        Placement::Dynamic {
            size: 0x40_0000,
            align: 0x1000,
            limit: None,
            alloc_ranges: [
                Some((0x4000_0000, 0x800_0000)),
                Some((0x4a00_0000, 0x100_0000)),
                None,
                None
            ],
        }
    );
    // `coherent,device-name` overrides the node name.
    assert_eq!(pool.devices().collect::<Vec<_>>(), ["virtio-blk0"]);
}

#[test]
fn small_alignment_is_raised_to_a_page_and_flags_are_read() {
    let blob = virt_tree(
        |writer| {
            pool_node(writer, "pool", None, |writer| {
                writer.property_u64("size", 0x2000).unwrap();
                writer.property_u64("alignment", 0x100).unwrap();
                writer.property_null("no-map").unwrap();
                writer.property_null("reusable").unwrap();
            })
        },
        |_| {},
    );
    let pool = pools(&blob)[0].unwrap();
    assert!(matches!(
        pool.placement,
        Placement::Dynamic { align: 0x1000, .. }
    ));
    assert!(pool.no_map && pool.reusable);
    assert_eq!(pool.devices().count(), 0);
}

#[test]
fn two_devices_share_one_pool() {
    let blob = virt_tree(
        |writer| {
            pool_node(writer, "shared@50000000", Some(12), |writer| {
                writer
                    .property_array_u64("reg", &[0x5000_0000, 0x20_0000])
                    .unwrap();
            })
        },
        |writer| {
            virtio_device(writer, 0xa00_0000, &[12], Some("virtio-blk0"));
            virtio_device(writer, 0xa00_0200, &[12], None);
            virtio_device(writer, 0xa00_0400, &[], None);
        },
    );
    let pool = pools(&blob)[0].unwrap();
    assert_eq!(
        pool.devices().collect::<Vec<_>>(),
        ["virtio-blk0", "virtio_mmio@a000200"]
    );
    assert!(pool.serves("virtio-blk0"));
}

#[test]
fn overlapping_static_pools_are_reported() {
    let blob = virt_tree(
        |writer| {
            pool_node(writer, "first@4c000000", None, |writer| {
                writer
                    .property_array_u64("reg", &[0x4c00_0000, 0x20_0000])
                    .unwrap();
            });
            pool_node(writer, "second@4c100000", None, |writer| {
                writer
                    .property_array_u64("reg", &[0x4c10_0000, 0x20_0000])
                    .unwrap();
            });
            pool_node(writer, "outside@80000000", None, |writer| {
                writer
                    .property_array_u64("reg", &[0x8000_0000, 0x1000])
                    .unwrap();
            });
        },
        |_| {},
    );
    let tree = DeviceTree::new(&blob).unwrap();
    let ranges: Vec<(u64, u64)> = tree
        .reserved_memory_pools()
        .map(|pool| match pool.unwrap().placement {
            Placement::Static { base, size } => (base, size),
            Placement::Dynamic { .. } => unreachable!("fixture has static pools only"),
        })
        .collect();
    let ram: Vec<_> = tree.memory_regions().collect();
    let problems: Vec<_> = check_overlaps(&ranges, &ram).collect();
    assert_eq!(
        problems,
        [
            LayoutProblem::OutsideRam { pool: 2 },
            LayoutProblem::Overlap {
                first: 0,
                second: 1
            }
        ]
    );
}

#[test]
fn malformed_nodes_are_reported_and_skipped() {
    let blob = virt_tree(
        |writer| {
            pool_node(writer, "no-size", None, |_| {});
            pool_node(writer, "short-reg", None, |writer| {
                writer
                    .property_array_u32("reg", &[0x4c00_0000, 0, 0x1000])
                    .unwrap();
            });
            pool_node(writer, "two-regs", None, |writer| {
                writer
                    .property_array_u64("reg", &[0x4c00_0000, 0x1000, 0x4d00_0000, 0x1000])
                    .unwrap();
            });
            pool_node(writer, "unaligned", None, |writer| {
                writer
                    .property_array_u64("reg", &[0x4c00_0800, 0x1000])
                    .unwrap();
            });
            pool_node(writer, "zero", None, |writer| {
                writer.property_array_u64("reg", &[0x4c00_0000, 0]).unwrap();
            });
            pool_node(writer, "wraps", None, |writer| {
                writer
                    .property_array_u64("reg", &[0xffff_ffff_ffff_f000, 0x2000])
                    .unwrap();
            });
            pool_node(writer, "size-one-cell", None, |writer| {
                writer.property_u32("size", 0x1000).unwrap();
            });
            pool_node(writer, "odd-size", None, |writer| {
                writer.property_u64("size", 0x1800).unwrap();
            });
            pool_node(writer, "bad-alignment", None, |writer| {
                writer.property_u64("size", 0x1000).unwrap();
                writer.property_u64("alignment", 0x3000).unwrap();
            });
            pool_node(writer, "many-ranges", None, |writer| {
                writer.property_u64("size", 0x1000).unwrap();
                writer
                    .property_array_u64("alloc-ranges", &[0, 1, 2, 1, 4, 1, 6, 1, 8, 1])
                    .unwrap();
            });
            pool_node(writer, "good", None, |writer| {
                writer.property_u64("size", 0x1000).unwrap();
            });
        },
        |_| {},
    );
    let found: Vec<_> = pools(&blob)
        .into_iter()
        .map(|pool| {
            pool.map(|pool| pool.name)
                .map_err(|error| (error.node, error.reason))
        })
        .collect();
    assert_eq!(
        found,
        [
            Err(("no-size", "pool has neither reg nor size")),
            Err((
                "short-reg",
                "reg length does not match #address-cells and #size-cells"
            )),
            Err(("two-regs", "reg holds more than one range")),
            Err(("unaligned", "reg base and size must be multiples of 4096")),
            Err(("zero", "range has size zero")),
            Err(("wraps", "range wraps past 2^64")),
            Err((
                "size-one-cell",
                "size or alignment does not match #size-cells"
            )),
            Err(("odd-size", "size must be a non-zero multiple of 4096")),
            Err(("bad-alignment", "alignment is not a power of two")),
            Err(("many-ranges", "more than 4 alloc-ranges")),
            Ok("good"),
        ]
    );
    let error = PoolNodeError {
        node: "n",
        reason: "r",
    };
    assert_eq!(error.to_string(), "device tree node n: r");
}

#[test]
fn bad_cell_counts_in_reserved_memory() {
    let mut writer = vm_fdt::FdtWriter::new().unwrap();
    let root = writer.begin_node("").unwrap();
    let reserved = writer.begin_node("reserved-memory").unwrap();
    writer.property_u32("#address-cells", 3).unwrap();
    writer.property_u32("#size-cells", 2).unwrap();
    pool_node(&mut writer, "pool", None, |writer| {
        writer
            .property_array_u32("reg", &[0, 0, 0x4c00_0000, 0, 0x1000])
            .unwrap();
    });
    writer.end_node(reserved).unwrap();
    writer.end_node(root).unwrap();
    let blob = writer.finish().unwrap();
    let tree = DeviceTree::new(&blob).unwrap();
    assert_eq!(
        tree.reserved_memory_pools()
            .next()
            .unwrap()
            .unwrap_err()
            .reason,
        "/reserved-memory #address-cells and #size-cells must be 1 or 2"
    );
    assert!(tree.reserved_regions().next().unwrap().is_err());
}

#[test]
fn non_identity_ranges_are_refused() {
    let mut writer = vm_fdt::FdtWriter::new().unwrap();
    let root = writer.begin_node("").unwrap();
    let reserved = writer.begin_node("reserved-memory").unwrap();
    writer.property_u32("#address-cells", 1).unwrap();
    writer.property_u32("#size-cells", 1).unwrap();
    writer
        .property_array_u32("ranges", &[0, 0x4000_0000, 0x1000_0000])
        .unwrap();
    pool_node(&mut writer, "pool", None, |writer| {
        writer
            .property_array_u32("reg", &[0x100_0000, 0x1000])
            .unwrap();
    });
    writer.end_node(reserved).unwrap();
    writer.end_node(root).unwrap();
    let blob = writer.finish().unwrap();
    let tree = DeviceTree::new(&blob).unwrap();
    assert_eq!(
        tree.reserved_memory_pools()
            .next()
            .unwrap()
            .unwrap_err()
            .reason,
        "/reserved-memory ranges is not empty (translation is not supported)"
    );
}

#[test]
fn one_cell_reserved_memory_is_read() {
    let mut writer = vm_fdt::FdtWriter::new().unwrap();
    let root = writer.begin_node("").unwrap();
    let reserved = writer.begin_node("reserved-memory").unwrap();
    writer.property_u32("#address-cells", 1).unwrap();
    writer.property_u32("#size-cells", 1).unwrap();
    writer.property_null("ranges").unwrap();
    pool_node(&mut writer, "pool@4c000000", None, |writer| {
        writer
            .property_array_u32("reg", &[0x4c00_0000, 0x2000])
            .unwrap();
    });
    pool_node(&mut writer, "dynamic", None, |writer| {
        writer.property_u32("size", 0x2000).unwrap();
        writer
            .property_array_u32("alloc-ranges", &[0x4000_0000, 0x100_0000])
            .unwrap();
    });
    writer.end_node(reserved).unwrap();
    writer.end_node(root).unwrap();
    let blob = writer.finish().unwrap();
    let tree = DeviceTree::new(&blob).unwrap();
    let pools: Vec<_> = tree
        .reserved_memory_pools()
        .map(|pool| pool.unwrap().placement)
        .collect();
    assert_eq!(
        pools[0],
        Placement::Static {
            base: 0x4c00_0000,
            size: 0x2000
        }
    );
    assert!(matches!(
        pools[1],
        Placement::Dynamic {
            size: 0x2000,
            alloc_ranges: [Some((0x4000_0000, 0x100_0000)), None, None, None],
            ..
        }
    ));
}

#[test]
fn dangling_and_malformed_memory_region_links() {
    let blob = virt_tree(
        |writer| {
            pool_node(writer, "pool", Some(20), |writer| {
                writer.property_u64("size", 0x1000).unwrap();
            })
        },
        |writer| {
            virtio_device(writer, 0xa00_0000, &[20], None);
            virtio_device(writer, 0xa00_0200, &[99], None);
            let node = writer.begin_node("broken@0").unwrap();
            writer.property("memory-region", &[1, 2]).unwrap();
            writer.end_node(node).unwrap();
        },
    );
    let tree = DeviceTree::new(&blob).unwrap();
    let errors: Vec<_> = tree
        .memory_region_errors()
        .map(|error| (error.node, error.reason))
        .collect();
    assert_eq!(
        errors,
        [
            ("virtio_mmio@a000200", "memory-region points to no node"),
            ("broken@0", "memory-region is not a list of phandles"),
        ]
    );
    let pool = tree.reserved_memory_pools().next().unwrap().unwrap();
    assert_eq!(pool.devices().collect::<Vec<_>>(), ["virtio_mmio@a000000"]);
}

#[test]
fn too_many_devices_for_one_pool() {
    let blob = virt_tree(
        |writer| {
            pool_node(writer, "pool", Some(30), |writer| {
                writer.property_u64("size", 0x1000).unwrap();
            })
        },
        |writer| {
            for index in 0..5 {
                virtio_device(writer, 0xa00_0000 + index * 0x200, &[30], None);
            }
        },
    );
    assert_eq!(
        pools(&blob)[0].unwrap_err().reason,
        "pool serves more than 4 devices"
    );
}

#[test]
fn reserved_regions_include_plain_reservations() {
    let blob = virt_tree(
        |writer| {
            let node = writer.begin_node("firmware@4f000000").unwrap();
            writer
                .property_array_u64("reg", &[0x4f00_0000, 0x10_0000])
                .unwrap();
            writer.property_null("no-map").unwrap();
            writer.end_node(node).unwrap();
            pool_node(writer, "dma@4c000000", None, |writer| {
                writer
                    .property_array_u64("reg", &[0x4c00_0000, 0x1000])
                    .unwrap();
            });
            pool_node(writer, "dynamic", None, |writer| {
                writer.property_u64("size", 0x1000).unwrap();
            });
        },
        |_| {},
    );
    let tree = DeviceTree::new(&blob).unwrap();
    let regions: Vec<_> = tree.reserved_regions().map(Result::unwrap).collect();
    assert_eq!(
        regions,
        [
            ReservedRegion {
                name: "firmware@4f000000",
                base: 0x4f00_0000,
                size: 0x10_0000,
                no_map: true
            },
            ReservedRegion {
                name: "dma@4c000000",
                base: 0x4c00_0000,
                size: 0x1000,
                no_map: false
            },
        ]
    );
    assert_eq!(tree.reserved_memory_pools().count(), 2);
}
