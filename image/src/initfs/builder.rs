//! The host-side writer that packs files into a newc archive (feature `std`).

use std::collections::BTreeSet;
use std::fmt;

use super::archive::normalize;
use super::header::{align_to_four, MAGIC, MODE_DIRECTORY, MODE_REGULAR_FILE, TRAILER_NAME};

/// Builds a newc archive in memory.
///
/// The output is reproducible: inode numbers count up from 1 in insertion order, and owner,
/// group and modification time are all zero. Parent directories that were not added
/// explicitly are added (mode `0o755`) just before their first child, so standard `cpio -i`
/// can unpack the archive without `-d`.
#[derive(Debug, Default)]
pub struct Builder {
    output: Vec<u8>,
    paths: BTreeSet<String>,
    next_inode: u32,
}

/// Why the builder refused an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// The path is empty, holds a NUL, an empty component, `.` or `..`, or is the trailer name.
    BadPath(String),
    /// The path was already added (explicitly or as a parent directory).
    Duplicate(String),
    /// The data does not fit the 32-bit size field.
    TooLarge(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadPath(path) => write!(formatter, "initfs path {path:?} is not valid"),
            Self::Duplicate(path) => write!(formatter, "initfs path {path:?} added twice"),
            Self::TooLarge(path) => write!(formatter, "initfs file {path:?} exceeds 4 GiB"),
        }
    }
}

impl std::error::Error for BuildError {}

impl Builder {
    /// An empty archive.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a regular file; `mode` gives its permission bits (e.g. `0o755`), and any file-type
    /// bits in it are replaced by those of a regular file. Leading `/` or `./` is dropped.
    ///
    /// # Errors
    ///
    /// Refuses a malformed or duplicate path and data larger than `u32::MAX` bytes.
    pub fn add_file(&mut self, path: &str, data: &[u8], mode: u32) -> Result<(), BuildError> {
        let path = self.check_new_path(path)?;
        if u32::try_from(data.len()).is_err() {
            return Err(BuildError::TooLarge(path.into()));
        }
        self.add_parents(path);
        self.push_entry(path, MODE_REGULAR_FILE | (mode & 0o7777), data);
        Ok(())
    }

    /// Adds a directory with permission bits `mode`.
    ///
    /// # Errors
    ///
    /// Refuses a malformed or duplicate path.
    pub fn add_directory(&mut self, path: &str, mode: u32) -> Result<(), BuildError> {
        let path = self.check_new_path(path)?;
        self.add_parents(path);
        self.push_entry(path, MODE_DIRECTORY | (mode & 0o7777), &[]);
        Ok(())
    }

    /// Appends the trailer and returns the archive.
    pub fn finish(mut self) -> Vec<u8> {
        self.write_header(TRAILER_NAME, 0, 0, 1, 0);
        self.output
    }

    fn check_new_path<'p>(&self, path: &'p str) -> Result<&'p str, BuildError> {
        let normalized = normalize(path);
        let valid = !normalized.is_empty()
            && normalized != TRAILER_NAME
            && !normalized.contains('\0')
            && normalized
                .split('/')
                .all(|component| !matches!(component, "" | "." | ".."));
        if !valid {
            return Err(BuildError::BadPath(path.into()));
        }
        if self.paths.contains(normalized) {
            return Err(BuildError::Duplicate(normalized.into()));
        }
        Ok(normalized)
    }

    fn add_parents(&mut self, path: &str) {
        let mut end = 0;
        while let Some(slash) = path[end..].find('/') {
            end += slash;
            let parent = &path[..end];
            if !self.paths.contains(parent) {
                self.push_entry(parent, MODE_DIRECTORY | 0o755, &[]);
            }
            end += 1;
        }
    }

    fn push_entry(&mut self, path: &str, mode: u32, data: &[u8]) {
        self.paths.insert(path.into());
        self.next_inode += 1;
        let links = if mode & MODE_DIRECTORY != 0 { 2 } else { 1 };
        // The size was checked against u32 by the caller; directories have no data.
        let size = data.len() as u32;
        self.write_header(path, self.next_inode, mode, links, size);
        self.output.extend_from_slice(data);
        self.pad();
    }

    fn write_header(&mut self, name: &str, inode: u32, mode: u32, links: u32, size: u32) {
        let name_size = name.len() as u32 + 1;
        let fields = [inode, mode, 0, 0, links, 0, size, 0, 0, 0, 0, name_size, 0];
        self.output.extend_from_slice(MAGIC);
        for value in fields {
            self.output
                .extend_from_slice(format!("{value:08X}").as_bytes());
        }
        self.output.extend_from_slice(name.as_bytes());
        self.output.push(0);
        self.pad();
    }

    fn pad(&mut self) {
        let padded = align_to_four(self.output.len()).unwrap_or(self.output.len());
        self.output.resize(padded, 0);
    }
}
