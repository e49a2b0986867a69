//! Virtual address arithmetic shared by every walk: indices, entry sizes, range checks.

use super::MapError;

/// The number of table levels; level 0 is the root.
pub const LEVELS: usize = 4;
/// The level of the last table, whose entries map 4 KiB pages.
pub const LAST_LEVEL: usize = LEVELS - 1;
/// The number of entries in every table.
pub const ENTRIES_PER_TABLE: usize = 512;
/// The smallest page, and the size and alignment of every table.
pub const PAGE_SIZE: u64 = 4096;
/// The first address above the lower half, `2^47`.
pub const LOWER_HALF_END: u64 = 1 << 47;
/// The first address of the upper half (the kernel's half; aarch64 TTBR1 with T1SZ = 16).
pub const UPPER_HALF_START: u64 = 0xFFFF_8000_0000_0000;

const _: () = assert!(ENTRIES_PER_TABLE * 8 == PAGE_SIZE as usize);
const _: () = assert!(UPPER_HALF_START == LOWER_HALF_END.wrapping_neg());

/// How many bytes one entry of a level-`level` table spans: 512 GiB at level 0, 1 GiB at 1,
/// 2 MiB at 2 and 4 KiB at 3.
///
/// # Panics
///
/// When `level` is above [`LAST_LEVEL`]; the walker never asks.
pub const fn entry_size(level: usize) -> u64 {
    assert!(level <= LAST_LEVEL, "page-table level out of range");
    PAGE_SIZE << (9 * (LAST_LEVEL - level))
}

/// The index of the entry translating `virtual_address` in a level-`level` table.
///
/// Both halves use bits 47:12, so an upper-half address indexes the root's entries 256 to 511.
pub const fn index_of(virtual_address: u64, level: usize) -> usize {
    ((virtual_address / entry_size(level)) % ENTRIES_PER_TABLE as u64) as usize
}

/// Whether `address` is canonical: in the lower half or in the upper half.
pub(super) const fn is_canonical(address: u64) -> bool {
    address < LOWER_HALF_END || address >= UPPER_HALF_START
}

/// An inclusive range of virtual addresses `[first, last]`, checked for alignment, overflow
/// and canonical form and never empty. Inclusive, so the page ending at `2^64` fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct VirtualRange {
    pub(super) first: u64,
    pub(super) last: u64,
}

impl VirtualRange {
    /// The range of `size` bytes at `virtual_start`, or `None` when `size` is zero.
    ///
    /// Refuses (in this order) an unaligned start or size, a range whose end overflows, and a
    /// range that is not wholly within one canonical half.
    pub(super) fn new(virtual_start: u64, size: u64) -> Result<Option<Self>, MapError> {
        if !virtual_start.is_multiple_of(PAGE_SIZE) || !size.is_multiple_of(PAGE_SIZE) {
            return Err(MapError::Misaligned);
        }
        if size == 0 {
            return Ok(None);
        }
        let last = virtual_start
            .checked_add(size - 1)
            .ok_or(MapError::Overflow)?;
        let lower = last < LOWER_HALF_END;
        let upper = virtual_start >= UPPER_HALF_START;
        if !lower && !upper {
            return Err(MapError::NonCanonical);
        }
        Ok(Some(VirtualRange {
            first: virtual_start,
            last,
        }))
    }

    /// The part of this range inside `[start, start + size)`, which it must overlap.
    pub(super) fn clamp(self, start: u64, size: u64) -> Self {
        VirtualRange {
            first: self.first.max(start),
            last: self.last.min(start + (size - 1)),
        }
    }

    /// Whether `[start, start + size)` lies wholly inside this range.
    pub(super) fn contains(self, start: u64, size: u64) -> bool {
        start >= self.first && start + (size - 1) <= self.last
    }

    /// The range's size in bytes; at most `2^47`, so it never overflows.
    pub(super) fn size(self) -> u64 {
        self.last - self.first + 1
    }
}

/// Checks that `[physical_start, physical_start + size)` is page aligned and does not wrap.
pub(super) fn check_physical(physical_start: u64, size: u64) -> Result<(), MapError> {
    if !physical_start.is_multiple_of(PAGE_SIZE) {
        return Err(MapError::Misaligned);
    }
    if size != 0 && physical_start.checked_add(size - 1).is_none() {
        return Err(MapError::Overflow);
    }
    Ok(())
}
