//! The disk image `cargo xtask` attaches to the machine, and which the guest programs check.
//!
//! Sector 0 is a header: the text `coherent-disk v1 SIZE` (SIZE in bytes, decimal) followed
//! by zero bytes up to 512. Every other sector `s` holds a known pattern: byte `i` is
//! `(s * 31 + i) as u8`. The default image is [`DEFAULT_SIZE`] bytes.

use crate::SECTOR_SIZE;

/// The header's first words.
pub const MAGIC: &str = "coherent-disk v1";

/// Bytes in the image xtask makes: 16 MiB.
pub const DEFAULT_SIZE: u64 = 16 << 20;

/// The sectors the `virtio-blk` guest suite overwrites, which `cargo xtask test` checks in
/// the image file afterwards: `WRITTEN_SECTORS` sectors from `WRITTEN_FIRST_SECTOR` (2 MiB).
pub const WRITTEN_FIRST_SECTOR: u64 = 4096;

/// How many sectors the suite overwrites there.
pub const WRITTEN_SECTORS: u64 = 256;

/// Byte `index` of sector `sector` as the suite writes it: another pattern than the
/// image's, so the host sees the write landed.
pub fn written_byte(sector: u64, index: usize) -> u8 {
    (sector
        .wrapping_mul(7)
        .wrapping_add((index as u64).wrapping_mul(13))
        ^ 0xA5) as u8
}

/// Byte `index` of sector `sector` in the pattern.
pub fn pattern_byte(sector: u64, index: usize) -> u8 {
    (sector.wrapping_mul(31).wrapping_add(index as u64)) as u8
}

/// Byte `index` of sector `sector` after the `generation`th rewrite by a mixed-request
/// test (generation 0 is the image's pattern), so a read is checked without keeping data.
pub fn generation_byte(sector: u64, generation: u16, index: usize) -> u8 {
    match generation {
        0 => pattern_byte(sector, index),
        _ => ((sector as u32).wrapping_mul(131)
            ^ u32::from(generation).wrapping_mul(0x9E37)
            ^ index as u32)
            .wrapping_add(index as u32 >> 3) as u8,
    }
}

/// Fills `bytes` (one sector or less) with sector `sector`'s pattern.
pub fn fill_pattern(sector: u64, bytes: &mut [u8]) {
    for (index, byte) in bytes.iter_mut().enumerate() {
        *byte = pattern_byte(sector, index);
    }
}

/// The first index in `bytes` (sector `sector`) that breaks the pattern.
pub fn pattern_mismatch(sector: u64, bytes: &[u8]) -> Option<usize> {
    bytes
        .iter()
        .enumerate()
        .position(|(index, byte)| *byte != pattern_byte(sector, index))
}

/// Writes the header sector of an image of `size` bytes into `sector` (512 bytes).
///
/// # Panics
///
/// If `sector` is shorter than the header text (never, for a 512-byte sector).
pub fn write_header(size: u64, sector: &mut [u8]) {
    sector.fill(0);
    let mut writer = Cursor {
        bytes: sector,
        at: 0,
    };
    core::fmt::Write::write_fmt(&mut writer, format_args!("{MAGIC} {size}"))
        .expect("the header fits in a sector");
}

/// The image size a header sector states, if it is one.
pub fn read_header(sector: &[u8]) -> Option<u64> {
    let end = sector
        .iter()
        .position(|byte| *byte == 0)
        .unwrap_or(sector.len());
    let text = core::str::from_utf8(&sector[..end]).ok()?;
    let size = text.strip_prefix(MAGIC)?.strip_prefix(' ')?;
    size.parse().ok()
}

/// The sectors in an image of `size` bytes.
pub fn sectors(size: u64) -> u64 {
    size / SECTOR_SIZE
}

/// Formats into a byte slice.
struct Cursor<'a> {
    bytes: &'a mut [u8],
    at: usize,
}

impl core::fmt::Write for Cursor<'_> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        let end = self.at + text.len();
        let target = self.bytes.get_mut(self.at..end).ok_or(core::fmt::Error)?;
        target.copy_from_slice(text.as_bytes());
        self.at = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let mut sector = [0xFFu8; 512];
        write_header(DEFAULT_SIZE, &mut sector);
        assert!(sector.starts_with(b"coherent-disk v1 16777216\0"));
        assert_eq!(read_header(&sector), Some(DEFAULT_SIZE));
        assert_eq!(read_header(&[0u8; 512]), None);
    }

    #[test]
    fn pattern_is_as_documented() {
        assert_eq!(pattern_byte(0, 0), 0);
        assert_eq!(pattern_byte(1, 0), 31);
        assert_eq!(pattern_byte(2, 300), (62 + 300) as u8);
        let mut sector = [0u8; 512];
        fill_pattern(7, &mut sector);
        assert_eq!(pattern_mismatch(7, &sector), None);
        sector[5] ^= 1;
        assert_eq!(pattern_mismatch(7, &sector), Some(5));
        assert_eq!(sectors(DEFAULT_SIZE), 32768);
        assert!((0..512).any(|index| written_byte(9, index) != pattern_byte(9, index)));
        assert!(WRITTEN_FIRST_SECTOR + WRITTEN_SECTORS <= sectors(DEFAULT_SIZE));
    }
}
