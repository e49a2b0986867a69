//! A minimal entry format for testing the walker without any real CPU's bits.

use crate::paging::{entry_size, EncodeError, PageTableFormat, LAST_LEVEL};
use crate::{CacheType, PageFlags};

/// Bit 0: present.
pub const PRESENT: u64 = 1 << 0;
/// Bit 1: a table (levels 0 to 2); clear for a leaf (levels 1 to 3).
pub const TABLE: u64 = 1 << 1;
const USER: u64 = 1 << 2;
const WRITABLE: u64 = 1 << 3;
const EXECUTABLE: u64 = 1 << 4;
const CACHE_SHIFT: u32 = 5;
const ADDRESS_MASK: u64 = 0x000F_FFFF_FFFF_F000;

/// Present, table, user, writable and executable bits, a two-bit memory type and a 52-bit
/// address; refuses executable device memory like both real formats.
pub struct TinyFormat;

impl PageTableFormat for TinyFormat {
    fn encode_leaf(physical: u64, flags: PageFlags, level: usize) -> Result<u64, EncodeError> {
        if level == 0 || level > LAST_LEVEL {
            return Err(EncodeError::UnsupportedLevel);
        }
        if physical > ADDRESS_MASK | 0xFFF {
            return Err(EncodeError::AddressTooWide);
        }
        if !physical.is_multiple_of(entry_size(level)) {
            return Err(EncodeError::Misaligned);
        }
        let cache = flags.cache_type();
        let device = matches!(cache, CacheType::Uncached | CacheType::Device);
        if flags.is_executable() && device {
            return Err(EncodeError::ExecutableDeviceMemory);
        }
        let cache_index = CacheType::ALL
            .iter()
            .position(|&each| each == cache)
            .unwrap() as u64;
        let mut entry = physical | PRESENT | cache_index << CACHE_SHIFT;
        for (right, bit) in [
            (flags.is_user(), USER),
            (flags.is_writable(), WRITABLE),
            (flags.is_executable(), EXECUTABLE),
        ] {
            if right {
                entry |= bit;
            }
        }
        Ok(entry)
    }

    fn encode_table(physical: u64) -> u64 {
        (physical & ADDRESS_MASK) | PRESENT | TABLE
    }

    fn decode_leaf(entry: u64, level: usize) -> Option<(u64, PageFlags)> {
        if !(1..=LAST_LEVEL).contains(&level) || entry & (PRESENT | TABLE) != PRESENT {
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
        if entry & EXECUTABLE != 0 {
            flags = flags.executable();
        }
        let cache = CacheType::ALL[((entry >> CACHE_SHIFT) & 3) as usize];
        Some((entry & ADDRESS_MASK, flags.cache(cache)))
    }

    fn table_address(entry: u64, level: usize) -> Option<u64> {
        let table = entry & (PRESENT | TABLE) == PRESENT | TABLE;
        (level < LAST_LEVEL && table).then_some(entry & ADDRESS_MASK)
    }

    fn is_present(entry: u64) -> bool {
        entry & PRESENT != 0
    }
}
