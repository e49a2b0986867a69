//! The open `disk:` handles: what each names and, for the disk, its position.

use alloc::collections::BTreeMap;
use disk_api::{DiskError, DiskPath, SizeText};

/// What a handle was opened on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleKind {
    /// The disk's sectors.
    Disk,
    /// The `size BYTES` text.
    Size,
    /// The driver's status text.
    Status,
}

/// One open handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle {
    /// What it names.
    pub kind: HandleKind,
    /// The next byte a read or write touches (for `Size`, within the text).
    pub position: u64,
    /// The process that opened it.
    pub owner: u64,
}

/// Every open handle, by number. Numbers are never reused while the driver runs.
#[derive(Debug, Default)]
pub struct Handles {
    open: BTreeMap<u64, Handle>,
    next: u64,
}

impl Handles {
    /// Opens `path` for process `owner` on a disk of `capacity` bytes; returns the number.
    ///
    /// # Errors
    ///
    /// The path's error, or [`DiskError::Invalid`] for an offset past the end.
    pub fn open(&mut self, path: &str, owner: u64, capacity: u64) -> Result<u64, DiskError> {
        let handle = match DiskPath::parse(path)? {
            DiskPath::Disk { offset } if offset > capacity => return Err(DiskError::Invalid),
            DiskPath::Disk { offset } => Handle {
                kind: HandleKind::Disk,
                position: offset,
                owner,
            },
            DiskPath::Size => Handle {
                kind: HandleKind::Size,
                position: 0,
                owner,
            },
            DiskPath::Status => Handle {
                kind: HandleKind::Status,
                position: 0,
                owner,
            },
        };
        self.next += 1;
        self.open.insert(self.next, handle);
        Ok(self.next)
    }

    /// Handle `number`, if open.
    pub fn get(&self, number: u64) -> Option<Handle> {
        self.open.get(&number).copied()
    }

    /// Moves handle `number` to `position`.
    pub fn set_position(&mut self, number: u64, position: u64) {
        if let Some(handle) = self.open.get_mut(&number) {
            handle.position = position;
        }
    }

    /// Closes handle `number`; whether it was open.
    pub fn close(&mut self, number: u64) -> bool {
        self.open.remove(&number).is_some()
    }

    /// How many handles are open.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}

/// The bytes of `disk:/size` from `position` on, at most `capacity` of them.
pub fn size_text_from(bytes: u64, position: u64, capacity: usize) -> alloc::vec::Vec<u8> {
    text_from(
        &alloc::format!("{}", SizeText { bytes }),
        position,
        capacity,
    )
}

/// The bytes of `text` from `position` on, at most `capacity` of them.
pub fn text_from(text: &str, position: u64, capacity: usize) -> alloc::vec::Vec<u8> {
    let start = (position as usize).min(text.len());
    let end = start.saturating_add(capacity).min(text.len());
    text.as_bytes()[start..end].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_positions_and_closes() {
        let mut handles = Handles::default();
        let disk = handles.open("/1024", 7, 4096).unwrap();
        let size = handles.open("size", 7, 4096).unwrap();
        assert_ne!(disk, size);
        assert_eq!(handles.get(disk).unwrap().position, 1024);
        assert_eq!(handles.get(size).unwrap().kind, HandleKind::Size);
        assert_eq!(handles.open("/8192", 7, 4096), Err(DiskError::Invalid));
        handles.set_position(disk, 512);
        assert_eq!(handles.get(disk).unwrap().position, 512);
        assert!(handles.close(disk));
        assert!(!handles.close(disk));
        assert_eq!(handles.len(), 1);
    }

    #[test]
    fn the_size_text_reads_in_pieces() {
        assert_eq!(size_text_from(4096, 0, 100), b"size 4096\n");
        assert_eq!(size_text_from(4096, 5, 2), b"40");
        assert_eq!(size_text_from(4096, 10, 100), b"");
        assert_eq!(size_text_from(4096, 1000, 100), b"");
    }
}
