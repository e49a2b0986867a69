//! The zero-allocation reader: an archive validated once, then walked by borrowing.

use super::error::{InitfsError, InitfsErrorKind};
use super::header::{parse_entry, MODE_DIRECTORY, MODE_REGULAR_FILE, MODE_TYPE_MASK, TRAILER_NAME};

/// A validated newc archive borrowed from the bytes the boot loader handed over.
///
/// Bytes after the `TRAILER!!!` entry are ignored: tools pad archives to 512-byte blocks, and
/// the boot loader may round the initrd up further.
#[derive(Clone, Copy, Debug)]
pub struct Archive<'a> {
    /// The archive from its first header to the end of the trailer entry.
    bytes: &'a [u8],
}

/// One file, directory or other node in the archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The path without any leading `./` or `/`; the root directory `.` has the empty path.
    pub path: &'a str,
    /// The entry's contents (empty for directories).
    pub data: &'a [u8],
    /// The mode: file-type and permission bits as in `st_mode`.
    pub mode: u32,
}

impl Entry<'_> {
    /// Whether the entry is a regular file.
    pub fn is_file(&self) -> bool {
        self.mode & MODE_TYPE_MASK == MODE_REGULAR_FILE
    }

    /// Whether the entry is a directory.
    pub fn is_directory(&self) -> bool {
        self.mode & MODE_TYPE_MASK == MODE_DIRECTORY
    }

    /// The permission bits (`0o7777` part) of the mode.
    pub fn permissions(&self) -> u32 {
        self.mode & 0o7777
    }
}

impl<'a> Archive<'a> {
    /// Validates every header, name and data block up to and including the trailer.
    ///
    /// # Errors
    ///
    /// Returns the first problem found and its byte offset: bad magic, a truncated header,
    /// name or data, a non-hexadecimal field, a malformed name, or a missing trailer.
    pub fn new(bytes: &'a [u8]) -> Result<Self, InitfsError> {
        let mut offset = 0;
        loop {
            if offset == bytes.len() {
                return Err(InitfsError {
                    offset,
                    kind: InitfsErrorKind::MissingTrailer,
                });
            }
            let entry = parse_entry(bytes, offset)?;
            offset = entry.next_offset;
            if entry.name == TRAILER_NAME {
                return Ok(Self {
                    bytes: &bytes[..offset],
                });
            }
        }
    }

    /// The entries in archive order, without the trailer.
    pub fn entries(&self) -> Entries<'a> {
        Entries {
            bytes: self.bytes,
            offset: 0,
        }
    }

    /// The entry at `path`; `/bin/init`, `./bin/init` and `bin/init` name the same entry.
    pub fn find(&self, path: &str) -> Option<Entry<'a>> {
        let path = normalize(path);
        self.entries().find(|entry| entry.path == path)
    }

    /// The length of the archive up to the end of its trailer entry.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the archive holds no entry besides the trailer.
    pub fn is_empty(&self) -> bool {
        self.entries().next().is_none()
    }
}

/// Iterator over an archive's entries, from [`Archive::entries`].
#[derive(Clone, Debug)]
pub struct Entries<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Iterator for Entries<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        // The archive was validated in `Archive::new`, so an error cannot occur here; should it
        // anyway, iteration simply ends.
        let raw = parse_entry(self.bytes, self.offset).ok()?;
        if raw.name == TRAILER_NAME {
            return None;
        }
        self.offset = raw.next_offset;
        Some(Entry {
            path: normalize(raw.name),
            data: raw.data,
            mode: raw.mode,
        })
    }
}

/// Strips leading `./` and `/` (repeatedly), and turns `.` into the empty root path.
pub(crate) fn normalize(mut path: &str) -> &str {
    loop {
        if let Some(rest) = path.strip_prefix("./") {
            path = rest;
        } else if let Some(rest) = path.strip_prefix('/') {
            path = rest;
        } else if path == "." {
            return "";
        } else {
            return path;
        }
    }
}
