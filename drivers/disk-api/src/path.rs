//! Paths inside `disk:` and the `disk:/size` text.

use crate::{DiskError, SECTOR_SIZE};
use core::fmt;

/// What an open names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskPath {
    /// The disk itself, positioned at this byte offset (`disk:` is offset 0).
    Disk {
        /// Where the first read or write starts.
        offset: u64,
    },
    /// `disk:/size`: the text `size BYTES`.
    Size,
    /// `disk:/status`: the driver's state as text, one `KEY VALUE` per line (see
    /// [`crate::status`]).
    Status,
}

impl DiskPath {
    /// Parses a path as the kernel hands it to the server (leading slashes optional).
    ///
    /// # Errors
    ///
    /// [`DiskError::Invalid`] for an offset that is not a sector multiple,
    /// [`DiskError::NotFound`] for anything else that is neither a number nor `size`.
    pub fn parse(path: &str) -> Result<Self, DiskError> {
        let path = path.trim_start_matches('/');
        if path.is_empty() {
            return Ok(DiskPath::Disk { offset: 0 });
        }
        if path == "size" {
            return Ok(DiskPath::Size);
        }
        if path == "status" {
            return Ok(DiskPath::Status);
        }
        if !path.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(DiskError::NotFound);
        }
        let offset: u64 = path.parse().map_err(|_| DiskError::Invalid)?;
        if !offset.is_multiple_of(SECTOR_SIZE) {
            return Err(DiskError::Invalid);
        }
        Ok(DiskPath::Disk { offset })
    }
}

impl DiskPath {
    /// The full path in a driver that serves the interface under another scheme name, e.g.
    /// `nvme:/4096` for the NVMe driver's `nvme:`.
    pub fn in_scheme(self, scheme: &str) -> SchemePath<'_> {
        SchemePath { path: self, scheme }
    }
}

/// A [`DiskPath`] under a scheme name, for display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchemePath<'a> {
    path: DiskPath,
    scheme: &'a str,
}

impl fmt::Display for SchemePath<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path {
            DiskPath::Disk { offset } => write!(formatter, "{}:/{offset}", self.scheme),
            DiskPath::Size => write!(formatter, "{}:/size", self.scheme),
            DiskPath::Status => write!(formatter, "{}:/status", self.scheme),
        }
    }
}

impl fmt::Display for DiskPath {
    /// The full path a client opens, e.g. `disk:/4096` or `disk:/size`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.in_scheme(crate::SCHEME).fmt(formatter)
    }
}

/// The text of `disk:/size`: `size BYTES` and a newline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeText {
    /// The disk's size in bytes.
    pub bytes: u64,
}

impl SizeText {
    /// Reads `size BYTES` (surrounding white space allowed).
    pub fn parse(text: &str) -> Option<Self> {
        let mut words = text.split_whitespace();
        if words.next() != Some("size") {
            return None;
        }
        let bytes = words.next()?.parse().ok()?;
        match words.next() {
            None => Some(SizeText { bytes }),
            Some(_) => None,
        }
    }
}

impl fmt::Display for SizeText {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(formatter, "size {}", self.bytes)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn parses_disk_paths() {
        assert_eq!(DiskPath::parse(""), Ok(DiskPath::Disk { offset: 0 }));
        assert_eq!(DiskPath::parse("/"), Ok(DiskPath::Disk { offset: 0 }));
        assert_eq!(
            DiskPath::parse("/1024"),
            Ok(DiskPath::Disk { offset: 1024 })
        );
        assert_eq!(DiskPath::parse("size"), Ok(DiskPath::Size));
        assert_eq!(DiskPath::parse("/status"), Ok(DiskPath::Status));
        assert_eq!(DiskPath::parse("/100"), Err(DiskError::Invalid));
        assert_eq!(
            DiskPath::parse("/99999999999999999999999"),
            Err(DiskError::Invalid)
        );
        assert_eq!(DiskPath::parse("/-512"), Err(DiskError::NotFound));
        assert_eq!(DiskPath::parse("/sizes"), Err(DiskError::NotFound));
        assert_eq!(DiskPath::Disk { offset: 512 }.to_string(), "disk:/512");
        assert_eq!(DiskPath::Size.to_string(), "disk:/size");
        assert_eq!(DiskPath::Size.in_scheme("nvme").to_string(), "nvme:/size");
        assert_eq!(
            DiskPath::Disk { offset: 0 }.in_scheme("nvme").to_string(),
            "nvme:/0"
        );
    }

    #[test]
    fn size_text_round_trips() {
        let text = SizeText { bytes: 16 << 20 }.to_string();
        assert_eq!(text, "size 16777216\n");
        assert_eq!(SizeText::parse(&text), Some(SizeText { bytes: 16 << 20 }));
        assert_eq!(SizeText::parse("size"), None);
        assert_eq!(SizeText::parse("size 1 2"), None);
        assert_eq!(SizeText::parse("bytes 1"), None);
    }
}
