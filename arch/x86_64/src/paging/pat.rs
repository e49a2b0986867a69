//! The page attribute table: which memory type each PWT/PCD/PAT combination selects.

use kernel_core::CacheType;

/// PAT memory type UC: strong uncacheable.
pub const MEMORY_TYPE_UNCACHEABLE: u8 = 0x00;
/// PAT memory type WC: uncached, writes combined in a buffer.
pub const MEMORY_TYPE_WRITE_COMBINING: u8 = 0x01;
/// PAT memory type WT: write-through cacheable.
pub const MEMORY_TYPE_WRITE_THROUGH: u8 = 0x04;
/// PAT memory type WP: write-protected cacheable.
pub const MEMORY_TYPE_WRITE_PROTECTED: u8 = 0x05;
/// PAT memory type WB: write-back cacheable.
pub const MEMORY_TYPE_WRITE_BACK: u8 = 0x06;
/// PAT memory type UC-: uncacheable, but an MTRR write-combining range may override it.
pub const MEMORY_TYPE_UNCACHED_MINUS: u8 = 0x07;

/// The IA32_PAT MSR value coherent loads on every CPU at boot.
///
/// | index | PAT PCD PWT | type | used for                         |
/// | ----- | ----------- | ---- | -------------------------------- |
/// | 0     | 0   0   0   | WB   | [`CacheType::WriteBack`]         |
/// | 1     | 0   0   1   | WT   | (power-on meaning, unused)       |
/// | 2     | 0   1   0   | UC-  | (power-on meaning, unused)       |
/// | 3     | 0   1   1   | UC   | [`CacheType::Uncached`], [`CacheType::Device`] |
/// | 4     | 1   0   0   | WC   | [`CacheType::WriteCombining`]    |
/// | 5     | 1   0   1   | WT   | (power-on meaning, unused)       |
/// | 6     | 1   1   0   | UC-  | (power-on meaning, unused)       |
/// | 7     | 1   1   1   | UC   | (power-on meaning, unused)       |
///
/// Entries 0-3 keep their power-on meanings, so firmware and early boot mappings that set
/// only PWT/PCD mean the same before and after the MSR is written. Only entry 4 changes
/// (power-on WB becomes WC); no mapping made before the MSR write may set the PAT bit.
pub const PAT_VALUE: u64 = u64::from_le_bytes([
    MEMORY_TYPE_WRITE_BACK,
    MEMORY_TYPE_WRITE_THROUGH,
    MEMORY_TYPE_UNCACHED_MINUS,
    MEMORY_TYPE_UNCACHEABLE,
    MEMORY_TYPE_WRITE_COMBINING,
    MEMORY_TYPE_WRITE_THROUGH,
    MEMORY_TYPE_UNCACHED_MINUS,
    MEMORY_TYPE_UNCACHEABLE,
]);

const _: () = assert!(PAT_VALUE == 0x0007_0401_0007_0406);

/// The PAT entry (0..=7) a memory type selects.
///
/// x86 has one strong-uncached type, so [`CacheType::Uncached`] and [`CacheType::Device`]
/// both select entry 3 (UC).
pub const fn pat_index(cache: CacheType) -> u8 {
    match cache {
        CacheType::WriteBack => 0,
        CacheType::WriteCombining => 4,
        CacheType::Uncached | CacheType::Device => 3,
    }
}

/// The memory-type byte [`PAT_VALUE`] holds for entry `index` (only its low three bits count).
pub const fn pat_entry(index: u8) -> u8 {
    PAT_VALUE.to_le_bytes()[(index & 7) as usize]
}

/// The [`CacheType`] a PAT entry gives a mapping.
///
/// UC and UC- read as [`CacheType::Uncached`] (never [`CacheType::Device`]: both encode
/// alike). WT and WP, which coherent never selects but firmware mappings might, read as
/// [`CacheType::WriteBack`] because they are cacheable; use [`pat_entry`] for the exact type.
pub const fn cache_type_of_pat_index(index: u8) -> CacheType {
    match pat_entry(index) {
        MEMORY_TYPE_WRITE_COMBINING => CacheType::WriteCombining,
        MEMORY_TYPE_UNCACHEABLE | MEMORY_TYPE_UNCACHED_MINUS => CacheType::Uncached,
        _ => CacheType::WriteBack,
    }
}
