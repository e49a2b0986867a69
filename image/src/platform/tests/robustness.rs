//! Malformed blobs must give errors, and a blob that passes the check must never panic.

use super::fixture::{pool_node, virt_tree, virtio_device};
use crate::platform::DeviceTree;

fn sample() -> Vec<u8> {
    virt_tree(
        |writer| {
            pool_node(writer, "pool@4c000000", Some(10), |writer| {
                writer
                    .property_array_u64("reg", &[0x4c00_0000, 0x10_0000])
                    .unwrap();
            });
            pool_node(writer, "dynamic", Some(11), |writer| {
                writer.property_u64("size", 0x1000).unwrap();
            });
        },
        |writer| {
            virtio_device(writer, 0xa00_0000, &[10], None);
            virtio_device(writer, 0xa00_0200, &[11, 10], Some("virtio-blk0"));
        },
    )
}

/// Calls every reader, so a panic anywhere shows.
fn read_everything(tree: &DeviceTree<'_>) -> usize {
    let mut count = tree.memory_regions().count() + tree.memory_reservations().count();
    count += usize::from(tree.initrd().is_some()) + usize::from(tree.bootargs().is_some());
    count += usize::from(tree.stdout().is_some());
    count += tree.reserved_memory_pools().count() + tree.reserved_regions().count();
    count += tree.memory_region_errors().count();
    for node in tree.nodes() {
        count += node.reg().count() + node.compatible().count();
        count += node.interrupts().map_or(0, Iterator::count);
    }
    count
}

#[test]
fn header_errors() {
    let good = sample();
    assert_eq!(
        DeviceTree::new(&[]).unwrap_err().reason,
        "blob shorter than the 40-byte header"
    );
    let mut bad_magic = good.clone();
    bad_magic[0] = 0;
    assert_eq!(
        DeviceTree::new(&bad_magic).unwrap_err().reason,
        "bad magic (not a device tree blob)"
    );
    let mut bad_version = good.clone();
    bad_version[23] = 16;
    assert_eq!(DeviceTree::new(&bad_version).unwrap_err().offset, 20);
    assert!(DeviceTree::new(&good).is_ok());
    assert_eq!(DeviceTree::size_from_header(&good[..40]), Ok(good.len()));
    assert!(DeviceTree::size_from_header(&good[..39]).is_err());
    // A blob followed by other bytes is cut to its own size.
    let mut padded = good.clone();
    padded.extend_from_slice(&[0xAA; 64]);
    assert_eq!(DeviceTree::new(&padded).unwrap().total_size(), good.len());
}

#[test]
fn every_truncation_is_an_error() {
    let good = sample();
    for length in 0..good.len() {
        assert!(DeviceTree::new(&good[..length]).is_err(), "length {length}");
    }
}

#[test]
fn every_single_byte_corruption_is_an_error_or_reads_without_panicking() {
    let good = sample();
    let mut accepted = 0;
    for offset in 0..good.len() {
        for value in [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x7f, 0xff] {
            let mut corrupt = good.clone();
            corrupt[offset] = value;
            if let Ok(tree) = DeviceTree::new(&corrupt) {
                read_everything(&tree);
                accepted += 1;
            }
        }
    }
    assert!(accepted > 0);
    assert!(read_everything(&DeviceTree::new(&good).unwrap()) > 10);
}
