//! Open files and the per-process descriptor table.

use super::Scheme;
use alloc::sync::Arc;
use alloc::vec::Vec;
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

/// A process's descriptors: index = descriptor number.
#[derive(Default)]
pub struct FileTable {
    slots: Vec<Option<File>>,
}

impl FileTable {
    /// Installs `file` at the lowest free number; when the table is full (or the heap cannot
    /// grow it) gives the file back with the error, so the caller releases it outside any lock.
    pub fn insert(&mut self, file: File) -> Result<usize, (File, Error)> {
        if let Some(index) = self.slots.iter().position(Option::is_none) {
            self.slots[index] = Some(file);
            return Ok(index);
        }
        if self.slots.len() >= MAX_DESCRIPTORS {
            return Err((file, Error::TooManyFiles));
        }
        if self.slots.try_reserve(1).is_err() {
            return Err((file, Error::OutOfMemory));
        }
        self.slots.push(Some(file));
        Ok(self.slots.len() - 1)
    }

    /// The file behind descriptor `number`.
    pub fn get(&self, number: usize) -> Option<File> {
        self.slots.get(number)?.clone()
    }

    /// Removes descriptor `number`; `None` if it was not open. Release what comes back.
    pub fn remove(&mut self, number: usize) -> Option<File> {
        self.slots.get_mut(number)?.take()
    }

    /// Every open file, emptying the table (a process exiting). Release each.
    pub fn take_all(&mut self) -> impl Iterator<Item = File> {
        core::mem::take(&mut self.slots).into_iter().flatten()
    }
}
