//! Read-only byte files: an initfs file, a `sys:` or `memory:pools` text, a device's
//! description. One position each, shared by every descriptor of the open file.

use crate::object::{Handles, OpenRequest, Scheme, Sink, Status};
use alloc::vec::Vec;
use kernel_core::Error;

/// Read-only contents: borrowed from the initfs or made at open time.
pub enum Bytes {
    /// An initfs file.
    Static(&'static [u8]),
    /// Text generated when the file was opened.
    Owned(Vec<u8>),
}

/// An open byte file.
pub struct ByteFile {
    data: Bytes,
    position: usize,
}

impl ByteFile {
    /// `data`, read from the start.
    pub fn new(data: Bytes) -> Self {
        ByteFile { data, position: 0 }
    }

    fn as_slice(&self) -> &[u8] {
        match &self.data {
            Bytes::Static(bytes) => bytes,
            Bytes::Owned(bytes) => bytes,
        }
    }

    /// Copies from the position into `buffer` and advances; 0 at the end.
    pub fn read(&mut self, buffer: &mut dyn Sink) -> Result<usize, Error> {
        let data = self.as_slice();
        let start = self.position.min(data.len());
        let count = buffer.len().min(data.len() - start);
        buffer.copy_from(0, &data[start..start + count])?;
        self.position = start + count;
        Ok(count)
    }

    /// Moves the position (`SEEK_SET` 0, `SEEK_CUR` 1, `SEEK_END` 2).
    pub fn seek(&mut self, offset: isize, whence: usize) -> Result<usize, Error> {
        let base = match whence {
            0 => 0isize,
            1 => self.position as isize,
            2 => self.as_slice().len() as isize,
            _ => return Err(Error::InvalidArgument),
        };
        let target = base
            .checked_add(offset)
            .filter(|target| *target >= 0)
            .ok_or(Error::InvalidArgument)?;
        self.position = target as usize;
        Ok(self.position)
    }

    /// A read-only regular file of this size.
    pub fn status(&self) -> Status {
        Status {
            size: self.as_slice().len() as u64,
            mode: 0o100_444,
        }
    }
}

/// A scheme of read-only byte files: `open` makes the bytes, the rest is the same for all
/// (`initfs:`, `sys:`).
pub struct ByteScheme {
    contents: fn(&OpenRequest<'_>) -> Result<Bytes, Error>,
    handles: Handles<ByteFile>,
}

impl ByteScheme {
    /// A scheme whose files hold what `contents` makes of each `open`.
    pub const fn new(contents: fn(&OpenRequest<'_>) -> Result<Bytes, Error>) -> Self {
        ByteScheme {
            contents,
            handles: Handles::new(),
        }
    }
}

impl Scheme for ByteScheme {
    fn open(&self, request: &OpenRequest<'_>) -> Result<u64, Error> {
        self.handles
            .insert(ByteFile::new((self.contents)(request)?))
    }

    fn read(&self, handle: u64, buffer: &mut dyn Sink) -> Result<usize, Error> {
        self.handles.with(handle, |file| file.read(buffer))?
    }

    fn seek(&self, handle: u64, offset: isize, whence: usize) -> Result<usize, Error> {
        self.handles
            .with(handle, |file| file.seek(offset, whence))?
    }

    fn status(&self, handle: u64) -> Result<Status, Error> {
        self.handles.with(handle, |file| file.status())
    }

    fn close(&self, handle: u64) {
        self.handles.remove(handle);
    }
}
