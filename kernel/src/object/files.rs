//! Open files and the per-process descriptor table.

use super::Scheme;
use alloc::sync::Arc;
use kernel_core::slots::Slots;
use kernel_core::Error;

/// The most descriptors a process may hold (`EMFILE` beyond).
pub const MAX_DESCRIPTORS: usize = 256;

/// One open object: a handle of a scheme. Descriptors made by `dup` share it.
pub struct OpenFile {
    /// The scheme that serves it.
    pub scheme: &'static dyn Scheme,
    /// The scheme's handle number.
    pub handle: u64,
}

/// A shared open file.
pub type File = Arc<OpenFile>;

impl OpenFile {
    /// A new open file for `handle` of `scheme`.
    pub fn new(scheme: &'static dyn Scheme, handle: u64) -> File {
        Arc::new(OpenFile { scheme, handle })
    }

    /// Lets go of one reference; the last one closes the handle (its scheme is told). The
    /// one place a descriptor's side effects happen: call it with no kernel lock held.
    pub fn release(file: File) {
        if let Some(file) = Arc::into_inner(file) {
            file.scheme.close(file.handle);
        }
    }
}

/// A process's descriptors: slot number = descriptor number, lowest free first.
pub struct FileTable {
    slots: Slots<File>,
}

impl Default for FileTable {
    fn default() -> Self {
        FileTable {
            slots: Slots::new(MAX_DESCRIPTORS),
        }
    }
}

impl FileTable {
    /// Installs `file` at the lowest free number; when the table is full (`EMFILE`) or the
    /// heap cannot grow it (`ENOMEM`) gives the file back with the error, so the caller
    /// releases it outside any lock.
    pub fn insert(&mut self, file: File) -> Result<usize, (File, Error)> {
        self.slots.insert(file)
    }

    /// The file behind descriptor `number`.
    pub fn get(&self, number: usize) -> Option<File> {
        self.slots.get(number).cloned()
    }

    /// Removes descriptor `number`; `None` if it was not open. Release what comes back.
    pub fn remove(&mut self, number: usize) -> Option<File> {
        self.slots.remove(number)
    }

    /// Every open file, emptying the table (a process exiting). Release each.
    pub fn take_all(&mut self) -> impl Iterator<Item = File> {
        self.slots.take_all()
    }
}
