//! Why a descriptor cannot be encoded, and why a page-table operation was refused.

/// Why a mapping cannot be encoded into a descriptor. Nothing is written when encoding fails.
///
/// Shared by every arch crate's encoder, so the kernel sees one error at the arch seam.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EncodeError {
    /// The physical address is not a multiple of the level's page size.
    Misaligned,
    /// The physical address is wider than the CPU's descriptors hold (x86_64: 52 bits;
    /// aarch64: 48 bits).
    AddressTooWide,
    /// Executable flags with [`CacheType::Uncached`] or [`CacheType::Device`]: instructions are
    /// only fetched from normal memory. Refused on both CPUs so the arch seam agrees.
    ///
    /// [`CacheType::Uncached`]: crate::CacheType::Uncached
    /// [`CacheType::Device`]: crate::CacheType::Device
    ExecutableDeviceMemory,
    /// The level holds no leaves (level 0, or a level past the last).
    UnsupportedLevel,
}

/// Why a [`PageTable`](super::PageTable) operation was refused. A refused operation changes
/// no entry and allocates or frees no table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapError {
    /// An address or size is not a multiple of 4 KiB.
    Misaligned,
    /// The end of the virtual or physical range does not fit in 64 bits.
    Overflow,
    /// The virtual range is not wholly within the lower half `[0, 2^47)` or wholly within the
    /// upper half `[0xFFFF_8000_0000_0000, 2^64)`.
    NonCanonical,
    /// Part of the range to map is already mapped.
    AlreadyMapped,
    /// Part of the range to unmap or protect is not mapped.
    NotMapped,
    /// The range covers only part of a 2 MiB or 1 GiB leaf; splitting leaves is not supported.
    WouldSplitLargePage,
    /// No frame was left for a new table.
    OutOfFrames,
    /// The format refused to encode a leaf.
    Encode(EncodeError),
}

impl From<EncodeError> for MapError {
    fn from(error: EncodeError) -> Self {
        MapError::Encode(error)
    }
}
