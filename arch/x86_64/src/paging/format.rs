//! [`X86_64PageTable`]: the x86_64 entry format, for kernel-core's generic page-table walker.

use super::{decode, decode_table, encode, encode_table, Level, PRESENT};
use kernel_core::paging::{EncodeError, PageTableFormat};
use kernel_core::PageFlags;

/// The x86_64 4-level format (PML4, PDPT, PD, PT) as a [`PageTableFormat`].
///
/// Walker level 0 is the PML4 (tables only), 1 the PDPT (1 GiB leaves with PS set), 2 the PD
/// (2 MiB leaves with PS set) and 3 the PT (4 KiB leaves). At levels 1 and 2 an entry with PS
/// clear points to a table.
#[derive(Clone, Copy, Debug, Default)]
pub struct X86_64PageTable;

/// The leaf kind at walker level `level`, or `None` for a level without leaves.
const fn leaf_level(level: usize) -> Option<Level> {
    match level {
        1 => Some(Level::Pdpte1G),
        2 => Some(Level::Pde2M),
        3 => Some(Level::Pte4K),
        _ => None,
    }
}

impl PageTableFormat for X86_64PageTable {
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
        entry & PRESENT != 0
    }
}

#[cfg(test)]
mod tests {
    use super::super::LARGE_PAGE;
    use super::*;
    use kernel_core::paging::testing::model::{check_sequence, Operation};
    use proptest::collection::vec;
    use proptest::prelude::*;

    kernel_core::page_table_scenarios!(X86_64PageTable);

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn random_sequences_agree_with_the_model(
            random in vec(any::<(u32, u32, u32, u8)>(), 1..40)
        ) {
            let operations: Vec<Operation> =
                random.into_iter().map(Operation::from_random).collect();
            check_sequence::<X86_64PageTable>(&operations);
        }
    }

    #[test]
    fn walker_levels_map_to_pdpte_pde_and_pte() {
        let flags = PageFlags::kernel();
        let giga = X86_64PageTable::encode_leaf(1 << 30, flags, 1).unwrap();
        let mega = X86_64PageTable::encode_leaf(1 << 21, flags, 2).unwrap();
        let small = X86_64PageTable::encode_leaf(1 << 12, flags, 3).unwrap();
        assert_eq!(giga, encode(1 << 30, flags, Level::Pdpte1G).unwrap());
        assert_eq!(mega, encode(1 << 21, flags, Level::Pde2M).unwrap());
        assert_eq!(small, encode(1 << 12, flags, Level::Pte4K).unwrap());
        assert!(giga & LARGE_PAGE != 0 && mega & LARGE_PAGE != 0);
        assert_eq!(
            X86_64PageTable::encode_leaf(0, flags, 0),
            Err(EncodeError::UnsupportedLevel)
        );
    }

    #[test]
    fn page_size_bit_tells_leaves_from_tables() {
        let table = X86_64PageTable::encode_table(0x5000);
        for level in 0..=2 {
            assert_eq!(X86_64PageTable::table_address(table, level), Some(0x5000));
        }
        assert_eq!(X86_64PageTable::decode_leaf(table, 1), None);
        assert_eq!(X86_64PageTable::decode_leaf(table, 2), None);
        let mega = X86_64PageTable::encode_leaf(1 << 21, PageFlags::kernel(), 2).unwrap();
        assert_eq!(X86_64PageTable::table_address(mega, 2), None);
        assert_eq!(
            X86_64PageTable::table_address(mega, 0),
            None,
            "PS in a PML4E"
        );
        assert_eq!(X86_64PageTable::table_address(table, 3), None);
        assert!(!X86_64PageTable::is_present(table & !PRESENT));
    }
}
