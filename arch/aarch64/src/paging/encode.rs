//! Block, page and table descriptors for the 4 KiB granule, built from [`PageFlags`].

use super::attributes::{attribute_index, cache_type_of_attribute_index};
pub use kernel_core::paging::EncodeError;
use kernel_core::{CacheType, PageFlags};

/// Bit 0: the descriptor is valid.
pub const VALID: u64 = 1 << 0;
/// Bit 1: set for a table (levels 0 to 2) or a page (level 3); clear for a block.
pub const PAGE_OR_TABLE: u64 = 1 << 1;
/// AttrIndx starts at bit 2.
pub const ATTRIBUTE_INDEX_SHIFT: u32 = 2;
/// Bits 4:2, AttrIndx: which [`MAIR_VALUE`](super::MAIR_VALUE) attribute applies.
pub const ATTRIBUTE_INDEX_MASK: u64 = 0b111 << ATTRIBUTE_INDEX_SHIFT;
/// Bit 6, AP\[1\]: EL0 may access (with the same read/write right as EL1).
pub const EL0_ACCESS: u64 = 1 << 6;
/// Bit 7, AP\[2\]: read-only at every level that may access.
pub const READ_ONLY: u64 = 1 << 7;
/// Bits 9:8, SH: shareability.
pub const SHAREABILITY_MASK: u64 = 0b11 << 8;
/// SH = 0b11: inner shareable, so every CPU's caches stay coherent for normal memory.
pub const INNER_SHAREABLE: u64 = 0b11 << 8;
/// Bit 10, AF: already accessed, so the first access does not fault.
pub const ACCESS_FLAG: u64 = 1 << 10;
/// Bit 11, nG: the TLB entry belongs to the current ASID only.
pub const NOT_GLOBAL: u64 = 1 << 11;
/// Bits 47:12: the output address of a 48-bit physical address space.
pub const ADDRESS_MASK: u64 = 0x0000_FFFF_FFFF_F000;
/// Bit 53, PXN: EL1 may not execute.
pub const PRIVILEGED_EXECUTE_NEVER: u64 = 1 << 53;
/// Bit 54, UXN: EL0 may not execute.
pub const UNPRIVILEGED_EXECUTE_NEVER: u64 = 1 << 54;

const _: () = assert!(ATTRIBUTE_INDEX_MASK == 0b1_1100);
const _: () = assert!(EL0_ACCESS | READ_ONLY == 0b11 << 6);
const _: () = assert!(ADDRESS_MASK.count_ones() == 36 && ADDRESS_MASK.trailing_zeros() == 12);
const _: () = assert!(PRIVILEGED_EXECUTE_NEVER == 1 << 53 && UNPRIVILEGED_EXECUTE_NEVER == 1 << 54);

/// Which table a block or page descriptor sits in, and so how much it maps.
///
/// Level 0 holds only table descriptors with the 4 KiB granule, so it has no variant here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// A level 1 block descriptor mapping 1 GiB.
    L1Block1G,
    /// A level 2 block descriptor mapping 2 MiB.
    L2Block2M,
    /// A level 3 page descriptor mapping 4 KiB.
    L3Page4K,
}

impl Level {
    /// Every leaf level, smallest first.
    pub const ALL: [Level; 3] = [Level::L3Page4K, Level::L2Block2M, Level::L1Block1G];

    /// The number of bytes one descriptor at this level maps.
    pub const fn page_size(self) -> u64 {
        match self {
            Level::L1Block1G => 1 << 30,
            Level::L2Block2M => 1 << 21,
            Level::L3Page4K => 1 << 12,
        }
    }

    /// The table level, 1 to 3.
    pub const fn number(self) -> u8 {
        match self {
            Level::L1Block1G => 1,
            Level::L2Block2M => 2,
            Level::L3Page4K => 3,
        }
    }

    /// The low two bits of a leaf at this level: 0b11 for a page, 0b01 for a block.
    const fn kind_bits(self) -> u64 {
        match self {
            Level::L3Page4K => VALID | PAGE_OR_TABLE,
            Level::L1Block1G | Level::L2Block2M => VALID,
        }
    }
}

/// The block or page descriptor mapping `physical` with `flags` at `level`.
///
/// Sets valid, bit 1 for a level 3 page, AttrIndx from [`attribute_index`], AP from user and
/// writable, SH inner shareable for normal memory (device memory ignores SH and gets 0b00),
/// AF always (coherent takes no access-flag faults) and nG for user mappings. Execute rights:
/// a user mapping is always PXN, and UXN unless executable; a kernel mapping is always UXN,
/// and PXN unless executable. Writable and executable together are not refused here; that
/// policy belongs to the caller.
pub const fn encode(physical: u64, flags: PageFlags, level: Level) -> Result<u64, EncodeError> {
    if physical >= 1 << 48 {
        return Err(EncodeError::AddressTooWide);
    }
    if physical & (level.page_size() - 1) != 0 {
        return Err(EncodeError::Misaligned);
    }
    let cache = flags.cache_type();
    let normal = matches!(cache, CacheType::WriteBack | CacheType::WriteCombining);
    if flags.is_executable() && !normal {
        return Err(EncodeError::ExecutableDeviceMemory);
    }
    let mut entry = physical | level.kind_bits() | ACCESS_FLAG;
    entry |= attribute_index(cache) << ATTRIBUTE_INDEX_SHIFT;
    if normal {
        entry |= INNER_SHAREABLE;
    }
    if !flags.is_writable() {
        entry |= READ_ONLY;
    }
    if flags.is_user() {
        entry |= EL0_ACCESS | NOT_GLOBAL | PRIVILEGED_EXECUTE_NEVER;
        if !flags.is_executable() {
            entry |= UNPRIVILEGED_EXECUTE_NEVER;
        }
    } else {
        entry |= UNPRIVILEGED_EXECUTE_NEVER;
        if !flags.is_executable() {
            entry |= PRIVILEGED_EXECUTE_NEVER;
        }
    }
    Ok(entry)
}

/// A table descriptor pointing at the next table at `next_table_physical`.
///
/// Only bits 0b11 and the address: APTable, UXNTable and PXNTable stay zero, restricting
/// nothing, so each leaf alone decides its rights. Bits outside 47:12 are dropped.
pub const fn encode_table(next_table_physical: u64) -> u64 {
    (next_table_physical & ADDRESS_MASK) | VALID | PAGE_OR_TABLE
}

/// The next table's physical address in a level 0 to 2 table descriptor, or `None` when the
/// descriptor is invalid or a block.
pub const fn decode_table(entry: u64) -> Option<u64> {
    if entry & (VALID | PAGE_OR_TABLE) != VALID | PAGE_OR_TABLE {
        return None;
    }
    Some(entry & ADDRESS_MASK)
}

/// The memory type of a block or page descriptor at `level`, from its AttrIndx.
///
/// AttrIndx sits at bits 4:2 at every level; `level` is taken so that both arch crates offer
/// the same signature.
pub const fn cache_of(entry: u64, level: Level) -> CacheType {
    let _ = level;
    cache_type_of_attribute_index((entry & ATTRIBUTE_INDEX_MASK) >> ATTRIBUTE_INDEX_SHIFT)
}

/// The physical address and flags of a block or page descriptor at `level`; the inverse of
/// [`encode`].
///
/// `None` when the descriptor is invalid, is a table (bit 1 set at level 1 or 2) or is the
/// reserved form at level 3 (bit 1 clear). Executable means UXN clear for a user mapping and
/// PXN clear for a kernel one. SH, AF and nG are not examined.
pub const fn decode(entry: u64, level: Level) -> Option<(u64, PageFlags)> {
    if entry & (VALID | PAGE_OR_TABLE) != level.kind_bits() {
        return None;
    }
    let user = entry & EL0_ACCESS != 0;
    let mut flags = if user {
        PageFlags::user()
    } else {
        PageFlags::kernel()
    };
    if entry & READ_ONLY == 0 {
        flags = flags.writable();
    }
    let execute_never = if user {
        UNPRIVILEGED_EXECUTE_NEVER
    } else {
        PRIVILEGED_EXECUTE_NEVER
    };
    if entry & execute_never == 0 {
        flags = flags.executable();
    }
    flags = flags.cache(cache_of(entry, level));
    Some((entry & ADDRESS_MASK & !(level.page_size() - 1), flags))
}
