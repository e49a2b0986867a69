//! Tests of bus `dma-ranges`: identity, offsets, several windows, nested buses, reach.

use super::fixture::{pool_node, virt_tree};
use crate::platform::{DeviceTree, DmaMap, DmaRange, DmaReachError};
use vm_fdt::FdtWriter;

/// A `simple-bus` node with the given cell counts and (if `Some`) `dma-ranges` cells.
fn bus(
    writer: &mut FdtWriter,
    name: &str,
    cells: (u32, u32),
    dma_ranges: Option<&[u32]>,
    children: impl FnOnce(&mut FdtWriter),
) {
    let node = writer.begin_node(name).unwrap();
    writer.property_string("compatible", "simple-bus").unwrap();
    writer.property_u32("#address-cells", cells.0).unwrap();
    writer.property_u32("#size-cells", cells.1).unwrap();
    writer.property_null("ranges").unwrap();
    if let Some(cells) = dma_ranges {
        writer.property_array_u32("dma-ranges", cells).unwrap();
    }
    children(writer);
    writer.end_node(node).unwrap();
}

/// A device node linked to pool phandle `region` (if any), named `name` for coherent.
fn device(writer: &mut FdtWriter, node_name: &str, region: Option<u32>, name: &str) {
    let node = writer.begin_node(node_name).unwrap();
    writer
        .property_string("compatible", "coherent,dma-test")
        .unwrap();
    if let Some(region) = region {
        writer.property_u32("memory-region", region).unwrap();
    }
    writer
        .property_string("coherent,device-name", name)
        .unwrap();
    writer.end_node(node).unwrap();
}

/// A static pool `pool@BASE` with phandle 20.
fn static_pool(base: u64, size: u64) -> impl FnOnce(&mut FdtWriter) {
    move |writer| {
        pool_node(writer, &format!("pool@{base:x}"), Some(20), |writer| {
            writer.property_array_u64("reg", &[base, size]).unwrap();
        })
    }
}

/// Splits a 64-bit number into two cells.
fn cells(value: u64) -> [u32; 2] {
    [(value >> 32) as u32, value as u32]
}

/// One 2-2-2 cell `dma-ranges` entry.
fn entry(child: u64, parent: u64, size: u64) -> Vec<u32> {
    [cells(child), cells(parent), cells(size)].concat()
}

fn map(blob: &[u8], path: &'static str) -> Result<DmaMap, DmaReachError<'static>> {
    let blob: &'static [u8] = Box::leak(blob.to_vec().into_boxed_slice());
    DeviceTree::new(blob).unwrap().dma_map_of(path)
}

#[test]
fn no_bus_or_empty_dma_ranges_is_identity() {
    let blob = virt_tree(
        |_| {},
        |writer| {
            device(writer, "plain", None, "plain");
            bus(writer, "bus@0", (2, 2), Some(&[]), |writer| {
                device(writer, "inside", None, "inside")
            });
            bus(writer, "bare@1", (2, 2), None, |writer| {
                device(writer, "under-bare", None, "under-bare")
            });
        },
    );
    for path in ["/plain", "/bus@0/inside", "/bare@1/under-bare"] {
        let map = map(&blob, path).unwrap();
        assert_eq!(map, DmaMap::IDENTITY, "{path}");
        assert_eq!(map.phys_to_dma(0x4c00_0000, 0x1000), Some(0x4c00_0000));
    }
}

#[test]
fn one_window_with_an_offset() {
    // Devices on the bus see RAM at 0x1_4000_0000: device address = phys + 0x1_0000_0000.
    let ranges = entry(0x1_4000_0000, 0x4000_0000, 0x1000_0000);
    let blob = virt_tree(static_pool(0x4c00_0000, 0x10_0000), |writer| {
        bus(writer, "bus@0", (2, 2), Some(&ranges), |writer| {
            device(writer, "dev@0", Some(20), "dma-test0")
        })
    });
    let map = map(&blob, "/bus@0/dev@0").unwrap();
    assert_eq!(
        map.ranges().collect::<Vec<_>>(),
        [DmaRange {
            cpu_start: 0x4000_0000,
            dma_start: 0x1_4000_0000,
            size: 0x1000_0000
        }]
    );
    assert_eq!(map.phys_to_dma(0x4c00_0000, 0x1000), Some(0x1_4c00_0000));
    assert_eq!(map.phys_to_dma(0x3fff_f000, 0x1000), None);
    assert_eq!(map.phys_to_dma(0x4fff_f000, 0x2000), None);
    assert_eq!(map.phys_to_dma(u64::MAX, 2), None);
    let tree = DeviceTree::new(&blob).unwrap();
    assert_eq!(
        tree.pool_device_base("pool@4c000000", 0x4c00_0000, 0x10_0000),
        Ok(0x1_4c00_0000)
    );
}

#[test]
fn several_windows_each_with_its_own_offset() {
    // Linux's negative-offset style in the first window (bus address 0 is RAM's start),
    // an identity window above it.
    let ranges = [
        entry(0x0, 0x4000_0000, 0x800_0000),
        entry(0x4800_0000, 0x4800_0000, 0x800_0000),
    ]
    .concat();
    let blob = virt_tree(
        |_| {},
        |writer| {
            bus(writer, "bus@0", (2, 2), Some(&ranges), |writer| {
                device(writer, "dev@0", None, "d")
            })
        },
    );
    let map = map(&blob, "/bus@0/dev@0").unwrap();
    assert_eq!(map.ranges().count(), 2);
    assert_eq!(map.phys_to_dma(0x4000_2000, 0x1000), Some(0x2000));
    assert_eq!(map.phys_to_dma(0x4900_0000, 0x1000), Some(0x4900_0000));
    // One window must hold the whole range, even where two windows touch.
    assert_eq!(map.phys_to_dma(0x47ff_f000, 0x2000), None);
}

#[test]
fn nested_buses_translate_up_through_each_level() {
    // Inner bus (1-cell addresses): bus address 0 = outer bus address 0x8000_0000;
    // outer bus: 0x8000_0000 = CPU 0x4000_0000. So device 0x1000 = phys 0x4000_1000.
    let outer = entry(0x8000_0000, 0x4000_0000, 0x1000_0000);
    let inner = [0, (0x8000_0000u64 >> 32) as u32, 0x8000_0000, 0x1000_0000];
    let blob = virt_tree(
        |_| {},
        |writer| {
            bus(writer, "outer@0", (2, 2), Some(&outer), |writer| {
                bus(writer, "inner@0", (1, 1), Some(&inner), |writer| {
                    device(writer, "dev@0", None, "d")
                });
                // An empty dma-ranges defers to the level above.
                bus(writer, "empty@1", (2, 2), Some(&[]), |writer| {
                    device(writer, "dev@1", None, "e")
                });
                // A missing one ends the search: no translation for its devices.
                bus(writer, "bare@2", (2, 2), None, |writer| {
                    device(writer, "dev@2", None, "f")
                });
            })
        },
    );
    let inner_map = map(&blob, "/outer@0/inner@0/dev@0").unwrap();
    assert_eq!(inner_map.phys_to_dma(0x4000_1000, 0x1000), Some(0x1000));
    assert_eq!(inner_map.phys_to_dma(0x5000_0000, 0x1000), None);
    let empty_map = map(&blob, "/outer@0/empty@1/dev@1").unwrap();
    assert_eq!(
        empty_map.phys_to_dma(0x4000_1000, 0x1000),
        Some(0x8000_1000)
    );
    assert_eq!(
        map(&blob, "/outer@0/bare@2/dev@2").unwrap(),
        DmaMap::IDENTITY
    );
}

#[test]
fn windows_that_translate_nowhere_are_dropped() {
    // The inner bus's second window names outer bus addresses the outer bus does not map.
    let outer = entry(0x8000_0000, 0x4000_0000, 0x1000_0000);
    let inner = [
        entry(0, 0x8000_0000, 0x1000),
        entry(0x10_0000, 0x1_0000_0000, 0x1000),
    ]
    .concat();
    let unreachable = entry(0, 0x1_0000_0000, 0x1000);
    let blob = virt_tree(
        |_| {},
        |writer| {
            bus(writer, "outer@0", (2, 2), Some(&outer), |writer| {
                bus(writer, "inner@0", (2, 2), Some(&inner), |writer| {
                    device(writer, "dev@0", None, "d")
                });
                bus(writer, "lost@1", (2, 2), Some(&unreachable), |writer| {
                    device(writer, "dev@1", None, "e")
                });
            })
        },
    );
    assert_eq!(
        map(&blob, "/outer@0/inner@0/dev@0")
            .unwrap()
            .ranges()
            .count(),
        1
    );
    assert_eq!(
        map(&blob, "/outer@0/lost@1/dev@1").unwrap_err().reason,
        "no dma-ranges entry translates to a CPU address"
    );
}

#[test]
fn a_pool_outside_the_device_reach_is_refused_naming_the_device() {
    // The bus reaches only the first 128 MiB of RAM; the pool lies above.
    let ranges = entry(0x0, 0x4000_0000, 0x800_0000);
    let blob = virt_tree(static_pool(0x4c00_0000, 0x10_0000), |writer| {
        bus(writer, "bus@0", (2, 2), Some(&ranges), |writer| {
            device(writer, "dev@0", Some(20), "dma-test0")
        })
    });
    let tree = DeviceTree::new(&blob).unwrap();
    assert_eq!(
        tree.pool_device_base("pool@4c000000", 0x4c00_0000, 0x10_0000),
        Err(DmaReachError {
            device: "dma-test0",
            reason: "its dma-ranges do not reach the whole pool"
        })
    );
    // Partly inside is still outside.
    assert!(tree
        .pool_device_base("pool@4c000000", 0x47ff_f000, 0x2000)
        .is_err());
    assert_eq!(
        tree.pool_device_base("pool@4c000000", 0x4000_0000, 0x1000),
        Ok(0)
    );
    // A pool no device names keeps its physical base.
    assert_eq!(tree.pool_device_base("nothing", 0x1000, 0x1000), Ok(0x1000));
}

#[test]
fn malformed_dma_ranges_are_errors() {
    let blob = virt_tree(
        |_| {},
        |writer| {
            bus(writer, "short@0", (2, 2), Some(&[0, 0, 0]), |writer| {
                device(writer, "dev@0", None, "d")
            });
            bus(writer, "cells@1", (3, 2), Some(&[0; 7]), |writer| {
                device(writer, "dev@1", None, "e")
            });
            bus(writer, "zero@2", (2, 2), Some(&entry(0, 0, 0)), |writer| {
                device(writer, "dev@2", None, "f")
            });
        },
    );
    for path in ["/short@0/dev@0", "/cells@1/dev@1", "/zero@2/dev@2"] {
        assert!(map(&blob, path).is_err(), "{path}");
    }
    assert!(map(&blob, "/nowhere").is_err());
}

#[test]
fn linux_dma_default_marks_the_global_pool() {
    let blob = virt_tree(
        |writer| {
            pool_node(writer, "global", Some(21), |writer| {
                writer.property_u64("size", 0x10_0000).unwrap();
                writer.property_null("linux,dma-default").unwrap();
            });
            static_pool(0x4c00_0000, 0x10_0000)(writer);
        },
        |_| {},
    );
    let tree = DeviceTree::new(&blob).unwrap();
    let defaults: Vec<bool> = tree
        .reserved_memory_pools()
        .map(|pool| pool.unwrap().default)
        .collect();
    assert_eq!(defaults, [true, false]);
}
