//! Leaf and table entries for 4-level x86_64 paging, built from [`PageFlags`].

use super::pat::{cache_type_of_pat_index, pat_index};
pub use kernel_core::paging::EncodeError;
use kernel_core::{CacheType, PageFlags};

/// Bit 0, P: the entry is present.
pub const PRESENT: u64 = 1 << 0;
/// Bit 1, R/W: writes are allowed.
pub const WRITABLE: u64 = 1 << 1;
/// Bit 2, U/S: user mode may access.
pub const USER: u64 = 1 << 2;
/// Bit 3, PWT: bit 0 of the PAT index.
pub const WRITE_THROUGH: u64 = 1 << 3;
/// Bit 4, PCD: bit 1 of the PAT index.
pub const CACHE_DISABLE: u64 = 1 << 4;
/// Bit 7 of a 4 KiB entry, PAT: bit 2 of the PAT index.
pub const PAT_SMALL: u64 = 1 << 7;
/// Bit 7 of a level 2 or 3 entry, PS: the entry maps a 2 MiB or 1 GiB page.
pub const LARGE_PAGE: u64 = 1 << 7;
/// Bit 8, G: survives CR3 switches. [`encode`] never sets it (see there).
pub const GLOBAL: u64 = 1 << 8;
/// Bit 12 of a 2 MiB or 1 GiB entry, PAT: bit 2 of the PAT index.
pub const PAT_LARGE: u64 = 1 << 12;
/// Bit 63, XD/NX: instruction fetches fault (needs EFER.NXE).
pub const NO_EXECUTE: u64 = 1 << 63;
/// Bits 12..=51: the physical address, at most 52 bits wide.
pub const ADDRESS_MASK: u64 = 0x000F_FFFF_FFFF_F000;

const _: () = assert!(NO_EXECUTE == 1 << 63);
const _: () = assert!(PAT_SMALL == LARGE_PAGE && PAT_SMALL == 1 << 7);
const _: () = assert!(PAT_LARGE == 1 << 12);
const _: () = assert!(PAT_LARGE & ADDRESS_MASK != 0 && PAT_LARGE < Level::Pde2M.page_size());
const _: () = assert!(ADDRESS_MASK.count_ones() == 40 && ADDRESS_MASK.trailing_zeros() == 12);

/// Which table a leaf entry sits in, and so how much it maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// Level 1, a page-table entry mapping 4 KiB; bit 7 is PAT.
    Pte4K,
    /// Level 2, a page-directory entry mapping 2 MiB; bit 7 is PS, bit 12 is PAT.
    Pde2M,
    /// Level 3, a page-directory-pointer-table entry mapping 1 GiB; bit 7 is PS, bit 12 is PAT.
    Pdpte1G,
}

impl Level {
    /// Every leaf level, smallest first.
    pub const ALL: [Level; 3] = [Level::Pte4K, Level::Pde2M, Level::Pdpte1G];

    /// The number of bytes one entry at this level maps.
    pub const fn page_size(self) -> u64 {
        match self {
            Level::Pte4K => 1 << 12,
            Level::Pde2M => 1 << 21,
            Level::Pdpte1G => 1 << 30,
        }
    }

    /// The table level, 1 for 4 KiB pages up to 3 for 1 GiB pages.
    pub const fn number(self) -> u8 {
        match self {
            Level::Pte4K => 1,
            Level::Pde2M => 2,
            Level::Pdpte1G => 3,
        }
    }

    /// The bit that carries bit 2 of the PAT index at this level.
    pub const fn pat_bit(self) -> u64 {
        match self {
            Level::Pte4K => PAT_SMALL,
            Level::Pde2M | Level::Pdpte1G => PAT_LARGE,
        }
    }

    const fn address_mask(self) -> u64 {
        ADDRESS_MASK & !(self.page_size() - 1)
    }
}

/// The leaf entry mapping `physical` with `flags` at `level`.
///
/// Sets P; R/W when writable; U/S when user; PWT, PCD and the level's PAT bit from
/// [`pat_index`]; PS for 2 MiB and 1 GiB pages; NX unless executable. Accessed and dirty are
/// left clear for the CPU. G is never set: without it every CR3 switch flushes the whole TLB,
/// which is always correct; making kernel mappings global is a later, deliberate change.
pub const fn encode(physical: u64, flags: PageFlags, level: Level) -> Result<u64, EncodeError> {
    if physical >= 1 << 52 {
        return Err(EncodeError::AddressTooWide);
    }
    if physical & (level.page_size() - 1) != 0 {
        return Err(EncodeError::Misaligned);
    }
    let cache = flags.cache_type();
    let device = matches!(cache, CacheType::Uncached | CacheType::Device);
    if flags.is_executable() && device {
        return Err(EncodeError::ExecutableDeviceMemory);
    }
    let mut entry = physical | PRESENT;
    if flags.is_writable() {
        entry |= WRITABLE;
    }
    if flags.is_user() {
        entry |= USER;
    }
    if !flags.is_executable() {
        entry |= NO_EXECUTE;
    }
    let index = pat_index(cache);
    if index & 1 != 0 {
        entry |= WRITE_THROUGH;
    }
    if index & 2 != 0 {
        entry |= CACHE_DISABLE;
    }
    if index & 4 != 0 {
        entry |= level.pat_bit();
    }
    if !matches!(level, Level::Pte4K) {
        entry |= LARGE_PAGE;
    }
    Ok(entry)
}

/// A non-leaf entry pointing at the next table at `physical_of_next_table`.
///
/// Sets P, R/W and U/S and leaves NX clear. x86 grants an access only if every level allows
/// it, so the most permissive table entries let each leaf alone decide its rights; there is
/// then one place to read and one place to check. Bits outside 12..=51 are dropped.
pub const fn encode_table(physical_of_next_table: u64) -> u64 {
    (physical_of_next_table & ADDRESS_MASK) | PRESENT | WRITABLE | USER
}

/// The next table's physical address in a present non-leaf entry at level 2 to 4, or `None`
/// when the entry is not present or (at level 2 or 3) maps a large page.
pub const fn decode_table(entry: u64) -> Option<u64> {
    if entry & PRESENT == 0 || entry & LARGE_PAGE != 0 {
        return None;
    }
    Some(entry & ADDRESS_MASK)
}

/// The PAT index (0..=7) a leaf entry at `level` selects.
pub const fn pat_index_of(entry: u64, level: Level) -> u8 {
    let mut index = 0;
    if entry & WRITE_THROUGH != 0 {
        index |= 1;
    }
    if entry & CACHE_DISABLE != 0 {
        index |= 2;
    }
    if entry & level.pat_bit() != 0 {
        index |= 4;
    }
    index
}

/// The memory type of a leaf entry at `level`, through [`PAT_VALUE`](super::PAT_VALUE).
///
/// Not symmetric with [`encode`]: `Device` and `Uncached` share UC, which reads back as
/// [`CacheType::Uncached`].
pub const fn cache_of(entry: u64, level: Level) -> CacheType {
    cache_type_of_pat_index(pat_index_of(entry, level))
}

/// The physical address and flags of a leaf entry at `level`; the inverse of [`encode`].
///
/// `None` when the entry is not present, or when at level 2 or 3 it has PS clear (a pointer
/// to a table, not a leaf). G, accessed and dirty are ignored. The memory type comes from
/// [`cache_of`], so a `Device` mapping decodes as `Uncached`.
pub const fn decode(entry: u64, level: Level) -> Option<(u64, PageFlags)> {
    if entry & PRESENT == 0 {
        return None;
    }
    if !matches!(level, Level::Pte4K) && entry & LARGE_PAGE == 0 {
        return None;
    }
    let mut flags = if entry & USER != 0 {
        PageFlags::user()
    } else {
        PageFlags::kernel()
    };
    if entry & WRITABLE != 0 {
        flags = flags.writable();
    }
    if entry & NO_EXECUTE == 0 {
        flags = flags.executable();
    }
    flags = flags.cache(cache_of(entry, level));
    Some((entry & level.address_mask(), flags))
}
