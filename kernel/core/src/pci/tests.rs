//! Host tests of ECAM addressing and BAR decoding, with values QEMU's q35 firmware produces.

use super::*;

#[test]
fn ecam_offset_packs_bus_device_function() {
    let address = Address {
        bus: 1,
        device: 3,
        function: 2,
    };
    assert_eq!(address.ecam_offset(), (1 << 20) | (3 << 15) | (2 << 12));
    let first = Address {
        bus: 0,
        device: 0,
        function: 0,
    };
    assert_eq!(first.ecam_offset(), 0);
}

#[test]
fn io_and_empty_bars_are_recognised() {
    assert_eq!(decode_bar(0xc041, 0), Bar::Io);
    assert_eq!(decode_bar(0, 0), Bar::Empty);
}

#[test]
fn thirty_two_bit_memory_bar_decodes() {
    assert_eq!(
        decode_bar(0xfebd_1000, 0xdead_beef),
        Bar::Memory {
            base: 0xfebd_1000,
            prefetchable: false,
            wide: false
        }
    );
}

#[test]
fn sixty_four_bit_prefetchable_bar_takes_the_next_register() {
    assert_eq!(
        decode_bar(0xfe00_000c, 0x0000_0001),
        Bar::Memory {
            base: 0x1_fe00_0000,
            prefetchable: true,
            wide: true
        }
    );
    // A 64-bit BAR placed below 4 GiB still counts as wide and present.
    assert_eq!(
        decode_bar(0x0000_000c, 0x0000_0008),
        Bar::Memory {
            base: 0x8_0000_0000,
            prefetchable: true,
            wide: true
        }
    );
}

#[test]
fn bar_sizes_come_from_the_lowest_writable_bit() {
    assert_eq!(bar_size(0xffff_f000, 0, false), Some(0x1000));
    assert_eq!(bar_size(0xffff_c00c, 0xffff_ffff, true), Some(0x4000));
    assert_eq!(
        bar_size(0x0000_000c, 0xffff_fff0, true),
        Some(0x10_0000_0000)
    );
    assert_eq!(bar_size(0, 0, false), None);
    assert_eq!(bar_size(0x0000_000c, 0, true), None);
}

#[test]
fn only_virtio_block_ids_match() {
    assert!(is_virtio_block(0x1af4, 0x1001));
    assert!(is_virtio_block(0x1af4, 0x1042));
    assert!(!is_virtio_block(0x1af4, 0x1000));
    assert!(!is_virtio_block(0x8086, 0x1001));
}

#[test]
fn recognises_nvme_controllers() {
    assert!(is_nvme(0x0108_0202));
    assert!(!is_nvme(0x0108_0102));
    assert!(!is_nvme(0x0106_0100));
}
