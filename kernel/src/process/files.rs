//! Open files and the per-process descriptor table.

use alloc::sync::Arc;
use alloc::vec::Vec;
use spin::Mutex;

/// The most descriptors a process may hold.
pub const MAX_DESCRIPTORS: usize = 256;

/// What an open descriptor refers to: a kernel scheme's open file.
pub enum OpenFile {
    /// `debug:`: console output, one log line per `\n`, tagged `name[pid]` so two
    /// instances of one program (a restarted dmad) are told apart.
    Debug {
        /// The tag: the opening process's name and pid, `dmad[2]`.
        name: alloc::string::String,
        /// Bytes of the current, unfinished line.
        line: Vec<u8>,
    },
    /// The socket of a scheme this process serves.
    SchemeSocket {
        /// The scheme's name.
        name: alloc::string::String,
    },
    /// A handle on a user scheme's object.
    User(UserHandle),
    /// A declared DMA pool (`memory:pool/NAME`), which only `fmap` uses.
    Pool {
        /// First physical byte.
        physical: u64,
        /// Bytes.
        size: u64,
    },
    /// `device:NAME`: the device's description to read and the ranges `fmap` may map.
    Device {
        /// The description, as text made at open time.
        data: Bytes,
        /// The read position.
        offset: usize,
        /// The physical ranges a mapping may lie in, as (base, size).
        windows: Vec<(u64, u64)>,
    },
    /// A read-only byte buffer: an initfs file or a `sys:` text.
    Bytes {
        /// The contents.
        data: Bytes,
        /// The read position.
        offset: usize,
    },
}

/// An open object of a user scheme: closing the last descriptor tells the server.
pub struct UserHandle {
    /// The scheme's name.
    pub scheme: alloc::string::String,
    /// The server's handle number.
    pub handle: u64,
}

impl Drop for UserHandle {
    fn drop(&mut self) {
        crate::ipc::notify_close(&self.scheme, self.handle);
    }
}

/// Read-only contents: borrowed from the initfs or made at open time.
pub enum Bytes {
    /// An initfs file.
    Static(&'static [u8]),
    /// Text generated when the file was opened.
    Owned(Vec<u8>),
}

impl Bytes {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Static(bytes) => bytes,
            Bytes::Owned(bytes) => bytes,
        }
    }
}

/// A shared open file (descriptors made by `dup` share one, and its position).
pub type File = Arc<Mutex<OpenFile>>;

/// A process's descriptors: index = descriptor number.
#[derive(Default)]
pub struct FileTable {
    slots: Vec<Option<File>>,
}

impl FileTable {
    /// Installs `file` at the lowest free number; gives it back when the table is full, so
    /// the caller drops it (a user-scheme file's drop tells its server) outside the process
    /// table's lock.
    pub fn insert(&mut self, file: File) -> Result<usize, File> {
        if let Some(index) = self.slots.iter().position(Option::is_none) {
            self.slots[index] = Some(file);
            return Ok(index);
        }
        if self.slots.len() >= MAX_DESCRIPTORS {
            return Err(file);
        }
        self.slots.push(Some(file));
        Ok(self.slots.len() - 1)
    }

    /// The file behind descriptor `number`.
    pub fn get(&self, number: usize) -> Option<File> {
        self.slots.get(number)?.clone()
    }

    /// Removes descriptor `number`; `None` if it was not open.
    pub fn remove(&mut self, number: usize) -> Option<File> {
        self.slots.get_mut(number)?.take()
    }
}
