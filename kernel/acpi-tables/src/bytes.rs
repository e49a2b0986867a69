//! Little-endian fields of a firmware table, read with bounds checks.

/// A table's bytes; every read says `None` past the end instead of panicking.
#[derive(Clone, Copy)]
pub(crate) struct Bytes<'a>(pub(crate) &'a [u8]);

impl<'a> Bytes<'a> {
    /// `length` bytes from `offset`.
    pub(crate) fn slice(self, offset: usize, length: usize) -> Option<&'a [u8]> {
        self.0.get(offset..offset.checked_add(length)?)
    }

    /// The byte at `offset`.
    pub(crate) fn u8(self, offset: usize) -> Option<u8> {
        self.0.get(offset).copied()
    }

    /// The little-endian `u16` at `offset`.
    pub(crate) fn u16(self, offset: usize) -> Option<u16> {
        Some(u16::from_le_bytes(self.slice(offset, 2)?.try_into().ok()?))
    }

    /// The little-endian `u32` at `offset`.
    pub(crate) fn u32(self, offset: usize) -> Option<u32> {
        Some(u32::from_le_bytes(self.slice(offset, 4)?.try_into().ok()?))
    }

    /// The little-endian `u64` at `offset`.
    pub(crate) fn u64(self, offset: usize) -> Option<u64> {
        Some(u64::from_le_bytes(self.slice(offset, 8)?.try_into().ok()?))
    }
}
