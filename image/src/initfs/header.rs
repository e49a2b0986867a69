//! The cpio "newc" header: layout, constants and the parser for one entry.

use super::error::{InitfsError, InitfsErrorKind};

/// The six ASCII bytes every newc header starts with.
pub const MAGIC: &[u8; 6] = b"070701";
/// Length of a newc header: the magic and thirteen eight-digit hexadecimal fields.
pub const HEADER_LENGTH: usize = 110;
/// The name of the entry that ends every archive.
pub const TRAILER_NAME: &str = "TRAILER!!!";
/// Mask of the file-type bits of a mode.
pub const MODE_TYPE_MASK: u32 = 0o170_000;
/// File-type bits of a regular file.
pub const MODE_REGULAR_FILE: u32 = 0o100_000;
/// File-type bits of a directory.
pub const MODE_DIRECTORY: u32 = 0o040_000;

/// Index of each field, counted in eight-byte steps after the magic.
pub(crate) mod field {
    pub const MODE: usize = 1;
    pub const FILE_SIZE: usize = 6;
    pub const NAME_SIZE: usize = 11;
    /// Number of fields in a header.
    pub const COUNT: usize = 13;
}

/// One entry as laid out in the archive, before its name is interpreted.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawEntry<'a> {
    /// The name exactly as stored, without the terminating NUL.
    pub name: &'a str,
    /// The mode field: type and permission bits.
    pub mode: u32,
    /// The entry's data.
    pub data: &'a [u8],
    /// Offset of the header that follows this entry.
    pub next_offset: usize,
}

/// Rounds `value` up to a multiple of four, the newc alignment, or `None` on overflow.
pub(crate) fn align_to_four(value: usize) -> Option<usize> {
    value.checked_add(3).map(|value| value & !3)
}

/// Parses the entry whose header starts at `offset`.
pub(crate) fn parse_entry(bytes: &[u8], offset: usize) -> Result<RawEntry<'_>, InitfsError> {
    let error = |offset, kind| InitfsError { offset, kind };
    let header_end = offset
        .checked_add(HEADER_LENGTH)
        .filter(|end| *end <= bytes.len())
        .ok_or(error(offset, InitfsErrorKind::TruncatedHeader))?;
    let header = &bytes[offset..header_end];
    if &header[..MAGIC.len()] != MAGIC {
        return Err(error(offset, InitfsErrorKind::BadMagic));
    }
    let mut fields = [0u32; field::COUNT];
    for (index, value) in fields.iter_mut().enumerate() {
        let start = MAGIC.len() + index * 8;
        *value = parse_hexadecimal(&header[start..start + 8])
            .ok_or(error(offset + start, InitfsErrorKind::NotHexadecimal))?;
    }
    let name_start = header_end;
    let name_size = fields[field::NAME_SIZE] as usize;
    let name_end = name_start
        .checked_add(name_size)
        .filter(|end| *end <= bytes.len())
        .ok_or(error(name_start, InitfsErrorKind::TruncatedName))?;
    let name = parse_name(&bytes[name_start..name_end])
        .ok_or(error(name_start, InitfsErrorKind::BadName))?;
    let data_start = align_to_four(name_end)
        .filter(|start| *start <= bytes.len())
        .ok_or(error(name_end, InitfsErrorKind::TruncatedName))?;
    let data_end = data_start
        .checked_add(fields[field::FILE_SIZE] as usize)
        .filter(|end| *end <= bytes.len())
        .ok_or(error(data_start, InitfsErrorKind::TruncatedData))?;
    let next_offset = align_to_four(data_end)
        .filter(|next| *next <= bytes.len())
        .ok_or(error(data_end, InitfsErrorKind::TruncatedData))?;
    Ok(RawEntry {
        name,
        mode: fields[field::MODE],
        data: &bytes[data_start..data_end],
        next_offset,
    })
}

/// Reads eight ASCII hexadecimal digits (either case).
fn parse_hexadecimal(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |value, digit| {
        let digit = char::from(*digit).to_digit(16)?;
        Some(value << 4 | digit)
    })
}

/// Checks a stored name: non-empty, NUL-terminated, no inner NUL, UTF-8.
fn parse_name(stored: &[u8]) -> Option<&str> {
    let (last, name) = stored.split_last()?;
    if *last != 0 || name.is_empty() || name.contains(&0) {
        return None;
    }
    core::str::from_utf8(name).ok()
}
