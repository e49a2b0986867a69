//! Descriptor calls: open, dup, close, reading a whole file, and random bytes.

use alloc::vec::Vec;
use kernel_core::abi::{SYS_DUP, SYS_OPEN};
use syscall::flag::O_RDONLY;
use syscall::number::SYS_CLOSE;
use syscall::{syscall1, syscall3, Result};

/// Opens `path` (`scheme:rest` or `/scheme/NAME/rest`) with Redox `O_*` `flags`; returns the
/// new descriptor.
///
/// # Errors
///
/// `ENOENT` for an unknown scheme or path, `EACCES` when this process may not open it,
/// `EFAULT` for a bad path buffer, or whatever the scheme's server answers.
pub fn open(path: &str, flags: usize) -> Result<usize> {
    // SAFETY: the kernel only reads `path.len()` bytes at `path`, which this borrow keeps
    // alive for the call.
    unsafe { syscall3(SYS_OPEN, path.as_ptr() as usize, path.len(), flags) }
}

/// A second descriptor for the same open file as `fd`.
///
/// # Errors
///
/// `EBADF` when `fd` is not open, `EMFILE` when the descriptor table is full.
pub fn dup(fd: usize) -> Result<usize> {
    // SAFETY: no memory is passed; the call only touches the descriptor table.
    unsafe { syscall1(SYS_DUP, fd) }
}

/// Closes `fd` (Redox's `SYS_CLOSE`; `redox_syscall` 0.9 has no wrapper for it).
///
/// # Errors
///
/// `EBADF` when `fd` is not open.
pub fn close(fd: usize) -> Result<usize> {
    // SAFETY: no memory is passed; the call only touches the descriptor table.
    unsafe { syscall1(SYS_CLOSE, fd) }
}

/// Reads `fd` until end of file (a read of 0 bytes).
///
/// # Errors
///
/// The first failing `read`.
pub fn read_to_end(fd: usize) -> Result<Vec<u8>> {
    const CHUNK: usize = 1024;
    let mut bytes = Vec::new();
    loop {
        let start = bytes.len();
        bytes.resize(start + CHUNK, 0);
        let count = syscall::read(fd, &mut bytes[start..])?;
        bytes.truncate(start + count);
        if count == 0 {
            return Ok(bytes);
        }
    }
}

/// Opens `path` read-only, reads all of it and closes it.
///
/// # Errors
///
/// The failing `open` or `read`; the descriptor is closed either way.
pub fn read_file(path: &str) -> Result<Vec<u8>> {
    let fd = open(path, O_RDONLY)?;
    let bytes = read_to_end(fd);
    // A failed close of a descriptor just read from loses nothing.
    let _ = close(fd);
    bytes
}

/// Fills `buffer` with the kernel's random bytes (`sys:random`, up to 256 per open, so a
/// longer buffer costs one open per 256 bytes).
///
/// # Errors
///
/// The failing `open` or `read`; `EIO` if a read came back short. The buffer may then be
/// partly filled, so callers must not use it.
pub fn random(buffer: &mut [u8]) -> Result<()> {
    for chunk in buffer.chunks_mut(256) {
        let fd = open("sys:random", O_RDONLY)?;
        let read = syscall::read(fd, chunk);
        // A failed close of a descriptor just read from loses nothing.
        let _ = close(fd);
        if read? != chunk.len() {
            return Err(syscall::Error::new(syscall::error::EIO));
        }
    }
    Ok(())
}

/// A request–reply `call` on `fd`: the kernel (or server) reads `buffer` as the request and
/// writes its answer into it; returns the answer's length.
pub fn call(fd: usize, buffer: &mut [u8]) -> Result<usize> {
    // SAFETY: the kernel reads and writes `buffer` only within its length, while it lives.
    unsafe {
        syscall3(
            syscall::number::SYS_CALL,
            fd,
            buffer.as_mut_ptr() as usize,
            buffer.len(),
        )
    }
}
