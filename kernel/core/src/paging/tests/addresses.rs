//! Host tests for the address arithmetic: indices, entry sizes and range checks.

use crate::paging::address::VirtualRange;
use crate::paging::{entry_size, index_of, MapError, LOWER_HALF_END, PAGE_SIZE, UPPER_HALF_START};

#[test]
fn entry_sizes_are_512_gib_1_gib_2_mib_4_kib() {
    assert_eq!(entry_size(0), 512 << 30);
    assert_eq!(entry_size(1), 1 << 30);
    assert_eq!(entry_size(2), 2 << 20);
    assert_eq!(entry_size(3), 4 << 10);
}

#[test]
fn indices_take_nine_bits_per_level_from_bit_12() {
    let address = (3 << 39) | (5 << 30) | (7 << 21) | (11 << 12) | 0xABC;
    assert_eq!(
        [0, 1, 2, 3].map(|level| index_of(address, level)),
        [3, 5, 7, 11]
    );
    assert_eq!(index_of(UPPER_HALF_START, 0), 256);
    assert_eq!(
        [0, 1, 2, 3].map(|level| index_of(u64::MAX, level)),
        [511; 4]
    );
}

#[test]
fn ranges_are_checked_for_alignment_overflow_and_halves() {
    let range = |start, size| VirtualRange::new(start, size);
    assert_eq!(range(PAGE_SIZE, 0), Ok(None));
    assert_eq!(range(1, PAGE_SIZE), Err(MapError::Misaligned));
    assert_eq!(range(0, 1), Err(MapError::Misaligned));
    assert_eq!(
        range(u64::MAX - 0xFFF, 2 * PAGE_SIZE),
        Err(MapError::Overflow)
    );
    let top = range(u64::MAX - 0xFFF, PAGE_SIZE).unwrap().unwrap();
    assert_eq!(
        (top.first, top.last, top.size()),
        (u64::MAX - 0xFFF, u64::MAX, PAGE_SIZE)
    );
    let lower = range(0, LOWER_HALF_END).unwrap().unwrap();
    assert_eq!(lower.size(), LOWER_HALF_END);
    assert_eq!(
        range(0, LOWER_HALF_END + PAGE_SIZE),
        Err(MapError::NonCanonical)
    );
    assert_eq!(
        range(LOWER_HALF_END, PAGE_SIZE),
        Err(MapError::NonCanonical)
    );
    assert_eq!(
        range(UPPER_HALF_START - PAGE_SIZE, 2 * PAGE_SIZE),
        Err(MapError::NonCanonical)
    );
    assert!(range(UPPER_HALF_START, 0u64.wrapping_sub(UPPER_HALF_START)).is_ok());
}
