//! [`Aarch64PageTable`]: the aarch64 descriptor format (4 KiB granule, 48-bit addresses), for
//! kernel-core's generic page-table walker.

use super::{decode, decode_table, encode, encode_table, Level, VALID};
use kernel_core::paging::{EncodeError, PageTableFormat};
use kernel_core::PageFlags;

/// The aarch64 4-level format (L0 to L3) as a [`PageTableFormat`].
///
/// Walker levels are the architecture's: L0 holds only table descriptors (0b11); L1 and L2
/// hold tables (0b11) or 1 GiB and 2 MiB blocks (0b01); L3 holds 4 KiB pages (0b11). The
/// same format serves TTBR0 (lower half) and TTBR1 (upper half, T1SZ = 16).
#[derive(Clone, Copy, Debug, Default)]
pub struct Aarch64PageTable;

/// The leaf kind at walker level `level`, or `None` for a level without leaves.
const fn leaf_level(level: usize) -> Option<Level> {
    match level {
        1 => Some(Level::L1Block1G),
        2 => Some(Level::L2Block2M),
        3 => Some(Level::L3Page4K),
        _ => None,
    }
}

impl PageTableFormat for Aarch64PageTable {
    fn encode_leaf(physical: u64, flags: PageFlags, level: usize) -> Result<u64, EncodeError> {
        let level = leaf_level(level).ok_or(EncodeError::UnsupportedLevel)?;
        encode(physical, flags, level)
    }

    fn encode_table(physical: u64) -> u64 {
        encode_table(physical)
    }

    fn decode_leaf(entry: u64, level: usize) -> Option<(u64, PageFlags)> {
        decode(entry, leaf_level(level)?)
    }

    fn table_address(entry: u64, level: usize) -> Option<u64> {
        match level {
            0..=2 => decode_table(entry),
            _ => None,
        }
    }

    fn is_present(entry: u64) -> bool {
        entry & VALID != 0
    }
}

#[cfg(test)]
mod tests {
    use super::super::PAGE_OR_TABLE;
    use super::*;
    use kernel_core::paging::testing::model::{check_sequence, Operation};
    use proptest::collection::vec;
    use proptest::prelude::*;

    kernel_core::page_table_scenarios!(Aarch64PageTable);

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn random_sequences_agree_with_the_model(
            random in vec(any::<(u32, u32, u32, u8)>(), 1..40)
        ) {
            let operations: Vec<Operation> =
                random.into_iter().map(Operation::from_random).collect();
            check_sequence::<Aarch64PageTable>(&operations);
        }
    }

    #[test]
    fn walker_levels_map_to_blocks_and_pages() {
        let flags = PageFlags::kernel();
        let giga = Aarch64PageTable::encode_leaf(1 << 30, flags, 1).unwrap();
        let mega = Aarch64PageTable::encode_leaf(1 << 21, flags, 2).unwrap();
        let page = Aarch64PageTable::encode_leaf(1 << 12, flags, 3).unwrap();
        assert_eq!(giga, encode(1 << 30, flags, Level::L1Block1G).unwrap());
        assert_eq!(mega, encode(1 << 21, flags, Level::L2Block2M).unwrap());
        assert_eq!(page, encode(1 << 12, flags, Level::L3Page4K).unwrap());
        assert_eq!((giga & 0b11, mega & 0b11, page & 0b11), (0b01, 0b01, 0b11));
        assert_eq!(
            Aarch64PageTable::encode_leaf(0, flags, 0),
            Err(EncodeError::UnsupportedLevel)
        );
    }

    #[test]
    fn low_bits_tell_blocks_tables_and_pages_apart() {
        let table = Aarch64PageTable::encode_table(0x5000);
        for level in 0..=2 {
            assert_eq!(Aarch64PageTable::table_address(table, level), Some(0x5000));
        }
        assert_eq!(Aarch64PageTable::decode_leaf(table, 2), None);
        assert_eq!(
            Aarch64PageTable::table_address(table, 3),
            None,
            "0b11 is a page at L3"
        );
        let block = Aarch64PageTable::encode_leaf(1 << 21, PageFlags::kernel(), 2).unwrap();
        assert_eq!(
            Aarch64PageTable::table_address(block, 0),
            None,
            "no blocks at L0"
        );
        assert_eq!(Aarch64PageTable::decode_leaf(block, 0), None);
        assert_eq!(
            Aarch64PageTable::decode_leaf(block | PAGE_OR_TABLE, 2),
            None
        );
        assert!(!Aarch64PageTable::is_present(table & !VALID));
    }
}
