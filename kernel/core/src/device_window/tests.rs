//! Host tests of the device-mapping check.

use super::*;

const MMIO: (u64, u64) = (0x0a00_3e00, 0x200);
const BAR: (u64, u64) = (0xfe00_0000, 0x4000);

#[test]
fn a_sub_page_window_maps_its_containing_page() {
    assert_eq!(
        device_window([MMIO], 0x0a00_3e00, 0x200),
        Some(DeviceWindow {
            first_page: 0x0a00_3000,
            pages: 1,
            offset_in_page: 0xe00
        })
    );
}

#[test]
fn part_of_a_bar_maps_its_pages() {
    assert_eq!(
        device_window([MMIO, BAR], 0xfe00_1000, 0x2000),
        Some(DeviceWindow {
            first_page: 0xfe00_1000,
            pages: 2,
            offset_in_page: 0
        })
    );
}

#[test]
fn bytes_outside_every_range_are_refused() {
    assert_eq!(device_window([MMIO], 0x0a00_3000, 0x1000), None);
    assert_eq!(device_window([MMIO], 0x0a00_3e00, 0x201), None);
    assert_eq!(device_window([MMIO, BAR], 0xfe00_3000, 0x2000), None);
    assert_eq!(device_window([MMIO], 0x0a00_3e00, 0), None);
    assert_eq!(device_window([MMIO], u64::MAX - 1, 4), None);
}

#[test]
fn a_request_spanning_two_ranges_is_refused() {
    let touching = [(0x1000, 0x1000), (0x2000, 0x1000)];
    assert_eq!(device_window(touching, 0x1800, 0x1000), None);
}
