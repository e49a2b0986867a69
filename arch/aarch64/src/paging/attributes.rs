//! MAIR_EL1: the four memory attributes a descriptor's AttrIndx chooses from.

use kernel_core::CacheType;

/// Normal memory, inner and outer write-back, read- and write-allocate, non-transient.
pub const ATTRIBUTE_NORMAL_WRITE_BACK: u8 = 0xFF;
/// Normal memory, inner and outer non-cacheable: writes may be gathered (write-combining).
pub const ATTRIBUTE_NORMAL_NON_CACHEABLE: u8 = 0x44;
/// Device-nGnRE: no gathering, no reordering, early write acknowledgement allowed.
pub const ATTRIBUTE_DEVICE_NGNRE: u8 = 0x04;
/// Device-nGnRnE: no gathering, no reordering, no early write acknowledgement.
pub const ATTRIBUTE_DEVICE_NGNRNE: u8 = 0x00;

/// The MAIR_EL1 value coherent loads on every CPU at boot.
///
/// | index | byte | attribute                     | memory type                      |
/// | ----- | ---- | ----------------------------- | -------------------------------- |
/// | 0     | 0xFF | Normal, write-back RW-allocate | [`CacheType::WriteBack`]        |
/// | 1     | 0x44 | Normal, non-cacheable         | [`CacheType::WriteCombining`]    |
/// | 2     | 0x04 | Device-nGnRE                  | [`CacheType::Device`]            |
/// | 3     | 0x00 | Device-nGnRnE                 | [`CacheType::Uncached`]          |
///
/// Indices 4 to 7 are zero, which is Device-nGnRnE; [`encode`](super::encode) never uses them.
pub const MAIR_VALUE: u64 = u64::from_le_bytes([
    ATTRIBUTE_NORMAL_WRITE_BACK,
    ATTRIBUTE_NORMAL_NON_CACHEABLE,
    ATTRIBUTE_DEVICE_NGNRE,
    ATTRIBUTE_DEVICE_NGNRNE,
    0,
    0,
    0,
    0,
]);

const _: () = assert!(MAIR_VALUE == 0x0000_0000_0004_44FF);

/// The MAIR index (0..=3) holding the attribute for `cache`.
pub const fn attribute_index(cache: CacheType) -> u64 {
    match cache {
        CacheType::WriteBack => 0,
        CacheType::WriteCombining => 1,
        CacheType::Device => 2,
        CacheType::Uncached => 3,
    }
}

/// The attribute byte [`MAIR_VALUE`] holds at `index` (only its low three bits count).
pub const fn mair_attribute(index: u64) -> u8 {
    MAIR_VALUE.to_le_bytes()[(index & 7) as usize]
}

/// The [`CacheType`] a MAIR index gives a mapping; the inverse of [`attribute_index`].
///
/// Indices 4 to 7 hold Device-nGnRnE and read as [`CacheType::Uncached`].
pub const fn cache_type_of_attribute_index(index: u64) -> CacheType {
    match index & 7 {
        0 => CacheType::WriteBack,
        1 => CacheType::WriteCombining,
        2 => CacheType::Device,
        _ => CacheType::Uncached,
    }
}
