//! Stage-1 translation table descriptors as a device sees them, for the generic walker.
//!
//! The VMSAv8-64 format with the 4 KiB granule (the CPU's own shape: four levels, 48-bit
//! IOVAs), read by the SMMU with the context descriptor's [`MEMORY_ATTRIBUTES`]. A device
//! mapping is always readable, never executable (UXN and PXN set), and reachable by both
//! privileged and unprivileged transactions (AP\[1\] set; a PCI function's transactions are
//! unprivileged); [`PageFlags::writable`] alone decides writes and the cache type selects
//! AttrIndx. Entries are not-global, so a domain's ASID invalidates them.
//!
//! [`MEMORY_ATTRIBUTES`]: super::MEMORY_ATTRIBUTES

use crate::paging::{EncodeError, PageTableFormat};
use crate::{CacheType, PageFlags};

const VALID: u64 = 1 << 0;
const PAGE_OR_TABLE: u64 = 1 << 1;
const ATTRIBUTE_SHIFT: u32 = 2;
const UNPRIVILEGED: u64 = 1 << 6;
const READ_ONLY: u64 = 1 << 7;
const INNER_SHAREABLE: u64 = 3 << 8;
const ACCESSED: u64 = 1 << 10;
const NOT_GLOBAL: u64 = 1 << 11;
const ADDRESS_MASK: u64 = 0x0000_ffff_ffff_f000;
const EXECUTE_NEVER: u64 = (1 << 53) | (1 << 54);

/// The SMMU's stage-1 format as a [`PageTableFormat`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Stage1Format;

const fn attribute_index(cache: CacheType) -> u64 {
    match cache {
        CacheType::WriteBack => 0,
        CacheType::WriteCombining => 1,
        CacheType::Device => 2,
        CacheType::Uncached => 3,
    }
}

const fn cache_of_index(index: u64) -> CacheType {
    match index {
        0 => CacheType::WriteBack,
        1 => CacheType::WriteCombining,
        2 => CacheType::Device,
        _ => CacheType::Uncached,
    }
}

const fn page_size(level: usize) -> u64 {
    1 << (12 + 9 * (3 - level))
}

impl PageTableFormat for Stage1Format {
    fn encode_leaf(physical: u64, flags: PageFlags, level: usize) -> Result<u64, EncodeError> {
        if !(1..=3).contains(&level) {
            return Err(EncodeError::UnsupportedLevel);
        }
        if physical & (page_size(level) - 1) != 0 {
            return Err(EncodeError::Misaligned);
        }
        if physical & !ADDRESS_MASK != 0 {
            return Err(EncodeError::AddressTooWide);
        }
        let kind = if level == 3 {
            VALID | PAGE_OR_TABLE
        } else {
            VALID
        };
        let write = if flags.is_writable() { 0 } else { READ_ONLY };
        Ok(physical
            | kind
            | (attribute_index(flags.cache_type()) << ATTRIBUTE_SHIFT)
            | UNPRIVILEGED
            | write
            | INNER_SHAREABLE
            | ACCESSED
            | NOT_GLOBAL
            | EXECUTE_NEVER)
    }

    fn encode_table(physical: u64) -> u64 {
        (physical & ADDRESS_MASK) | VALID | PAGE_OR_TABLE
    }

    fn decode_leaf(entry: u64, level: usize) -> Option<(u64, PageFlags)> {
        let kind = entry & (VALID | PAGE_OR_TABLE);
        let leaf = match level {
            1 | 2 => kind == VALID,
            3 => kind == VALID | PAGE_OR_TABLE,
            _ => false,
        };
        if !leaf {
            return None;
        }
        let mut flags = PageFlags::user().cache(cache_of_index((entry >> ATTRIBUTE_SHIFT) & 0b111));
        if entry & READ_ONLY == 0 {
            flags = flags.writable();
        }
        Some((entry & ADDRESS_MASK & !(page_size(level) - 1), flags))
    }

    fn table_address(entry: u64, level: usize) -> Option<u64> {
        (level <= 2 && entry & (VALID | PAGE_OR_TABLE) == VALID | PAGE_OR_TABLE)
            .then_some(entry & ADDRESS_MASK)
    }

    fn is_present(entry: u64) -> bool {
        entry & VALID != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paging::testing::emulated_machine;
    use crate::paging::{PageSizes, PageTable};

    #[test]
    fn device_page_bits() {
        let flags = PageFlags::user()
            .writable()
            .cache(CacheType::WriteCombining);
        let entry = Stage1Format::encode_leaf(0x4000_1000, flags, 3).unwrap();
        assert_eq!(entry & 0xfff, 0b1111_0100_0111);
        assert_eq!(entry & EXECUTE_NEVER, EXECUTE_NEVER);
        assert_eq!(
            Stage1Format::decode_leaf(entry, 3),
            Some((0x4000_1000, flags))
        );
        let read_only = Stage1Format::encode_leaf(0x2000, PageFlags::user(), 3).unwrap();
        assert_ne!(read_only & READ_ONLY, 0);
        assert_eq!(
            Stage1Format::encode_leaf(0x1000, flags, 2),
            Err(EncodeError::Misaligned)
        );
        assert_eq!(
            Stage1Format::encode_leaf(1 << 48, flags, 3),
            Err(EncodeError::AddressTooWide)
        );
    }

    #[test]
    fn walker_maps_translates_and_unmaps_a_domain() {
        let (mut memory, mut frames) = emulated_machine();
        let mut table = PageTable::<Stage1Format>::new(&mut frames).unwrap();
        let flags = PageFlags::user()
            .writable()
            .cache(CacheType::WriteCombining);
        table
            .map(
                &mut memory,
                &mut frames,
                0x10_0000,
                0x4000_0000,
                0x3000,
                flags,
                PageSizes::Small,
            )
            .unwrap();
        let translation = table.translate(&memory, 0x10_2010).unwrap();
        assert_eq!(translation.physical, 0x4000_2010);
        table
            .unmap(&mut memory, &mut frames, 0x10_0000, 0x3000, |_, _, _| {})
            .unwrap();
        assert!(table.translate(&memory, 0x10_0000).is_none());
    }
}
