//! Where a request's bytes come from and go to, as schemes see them.
//!
//! A system call hands a scheme user memory only as a [`Source`] or [`Sink`] (implemented by
//! `syscall::user_memory::UserSlice`, which checks the caller's tables again at every copy);
//! kernel callers and tests use plain byte slices. No scheme ever holds a `&[u8]` into user
//! memory.

use alloc::vec::Vec;
use kernel_core::Error;

/// Bytes to read (a `write`'s data, a `call`'s input).
pub trait Source {
    /// How many bytes there are.
    fn len(&self) -> usize;
    /// Copies `into.len()` bytes starting at `offset` into `into`.
    fn copy_to(&self, offset: usize, into: &mut [u8]) -> Result<(), Error>;
}

/// Room to write (a `read`'s buffer, a `call`'s answer).
pub trait Sink {
    /// How many bytes fit.
    fn len(&self) -> usize;
    /// Copies `bytes` to `offset`; `EINVAL` if they do not fit.
    fn copy_from(&mut self, offset: usize, bytes: &[u8]) -> Result<(), Error>;
}

impl Source for &[u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    fn copy_to(&self, offset: usize, into: &mut [u8]) -> Result<(), Error> {
        let end = offset
            .checked_add(into.len())
            .ok_or(Error::InvalidArgument)?;
        into.copy_from_slice(self.get(offset..end).ok_or(Error::InvalidArgument)?);
        Ok(())
    }
}

impl Sink for &mut [u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    fn copy_from(&mut self, offset: usize, bytes: &[u8]) -> Result<(), Error> {
        let end = offset
            .checked_add(bytes.len())
            .ok_or(Error::InvalidArgument)?;
        self.get_mut(offset..end)
            .ok_or(Error::InvalidArgument)?
            .copy_from_slice(bytes);
        Ok(())
    }
}

/// The first `limit` bytes of `source` (all of them if fewer) in a new buffer the heap may
/// refuse (`ENOMEM`).
pub fn read_all(source: &dyn Source, limit: usize) -> Result<Vec<u8>, Error> {
    let length = source.len().min(limit);
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(length)?;
    bytes.resize(length, 0);
    source.copy_to(0, &mut bytes)?;
    Ok(bytes)
}
