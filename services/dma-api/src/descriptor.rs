//! The buffer descriptor a read (or call) on a buffer's descriptor returns.

/// Codes of [`DmaBufferInfo::cache_type`]: how the buffer is mapped (the kernel's
/// `CacheType`, in declaration order).
pub mod cache_type {
    /// Normal write-back cacheable memory.
    pub const WRITE_BACK: u32 = 0;
    /// Normal memory, uncached, writes may combine: what DMA pools use.
    pub const WRITE_COMBINING: u32 = 1;
    /// Strongly ordered uncached memory.
    pub const UNCACHED: u32 = 2;
    /// Device memory.
    pub const DEVICE: u32 = 3;
}

/// What a buffer is: `#[repr(C)]`, 24 bytes, native byte order, as the wire carries it.
///
/// | offset | field |
/// | --- | --- |
/// | 0 | `device_address: u64` |
/// | 8 | `size: u64` |
/// | 16 | `cache_type: u32` ([`cache_type`]) |
/// | 20 | `_reserved: u32` (zero) |
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DmaBufferInfo {
    /// The address the device uses for the buffer's first byte.
    pub device_address: u64,
    /// Length in bytes: the request rounded up to a power-of-two number of pages.
    pub size: u64,
    /// How the buffer is mapped, one of [`cache_type`].
    pub cache_type: u32,
    /// Zero; room for flags.
    pub _reserved: u32,
}

impl DmaBufferInfo {
    /// Bytes on the wire.
    pub const SIZE: usize = core::mem::size_of::<DmaBufferInfo>();

    /// The wire form.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut bytes = [0; Self::SIZE];
        bytes[0..8].copy_from_slice(&self.device_address.to_ne_bytes());
        bytes[8..16].copy_from_slice(&self.size.to_ne_bytes());
        bytes[16..20].copy_from_slice(&self.cache_type.to_ne_bytes());
        bytes[20..24].copy_from_slice(&self._reserved.to_ne_bytes());
        bytes
    }

    /// Reads the wire form; `None` if `bytes` is not exactly [`Self::SIZE`] long.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let bytes: &[u8; Self::SIZE] = bytes.try_into().ok()?;
        let u64_at = |at: usize| {
            let mut word = [0; 8];
            word.copy_from_slice(&bytes[at..at + 8]);
            u64::from_ne_bytes(word)
        };
        let u32_at = |at: usize| {
            let mut word = [0; 4];
            word.copy_from_slice(&bytes[at..at + 4]);
            u32::from_ne_bytes(word)
        };
        Some(DmaBufferInfo {
            device_address: u64_at(0),
            size: u64_at(8),
            cache_type: u32_at(16),
            _reserved: u32_at(20),
        })
    }
}

const _: () = assert!(DmaBufferInfo::SIZE == 24);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_round_trips() {
        let info = DmaBufferInfo {
            device_address: 0x8000_1000,
            size: 0x4000,
            cache_type: cache_type::WRITE_COMBINING,
            _reserved: 0,
        };
        let bytes = info.to_bytes();
        assert_eq!(&bytes[0..8], &0x8000_1000u64.to_ne_bytes());
        assert_eq!(DmaBufferInfo::from_bytes(&bytes), Some(info));
        assert_eq!(DmaBufferInfo::from_bytes(&bytes[..23]), None);
    }
}
