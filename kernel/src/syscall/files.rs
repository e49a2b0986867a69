//! Descriptor system calls: open, read, write, close, dup, lseek, fstat.

use super::{user_memory, Outcome};
use crate::process;
use crate::schemes;
use redox_syscall::data::Stat;
use redox_syscall::error::{EBADF, EINVAL, EMFILE};

fn file(descriptor: usize) -> Result<process::File, i32> {
    process::with(|table| table.running().files.get(descriptor)).ok_or(EBADF)
}

/// `open(path, length, flags)`.
pub fn open(path: usize, length: usize, _flags: usize) -> Outcome {
    let path = user_memory::string(path, length, kernel_core::path::MAX_PATH)?;
    let name = process::with(|table| table.running().name.clone());
    let file = schemes::open(path, &name)?;
    process::with(|table| table.running().files.insert(file)).ok_or(EMFILE)
}

/// `write(fd, buffer, length)`.
pub fn write(descriptor: usize, buffer: usize, length: usize) -> Outcome {
    let file = file(descriptor)?;
    let bytes = user_memory::bytes(buffer, length)?;
    schemes::write(&file, bytes)
}

/// `read(fd, buffer, length)`.
pub fn read(descriptor: usize, buffer: usize, length: usize) -> Outcome {
    let file = file(descriptor)?;
    let bytes = user_memory::bytes_mut(buffer, length)?;
    schemes::read(&file, bytes)
}

/// `close(fd)`.
pub fn close(descriptor: usize) -> Outcome {
    process::with(|table| table.running().files.remove(descriptor)).ok_or(EBADF)?;
    Ok(0)
}

/// `dup(fd)`: a new descriptor sharing the open file.
pub fn duplicate(descriptor: usize) -> Outcome {
    let file = file(descriptor)?;
    process::with(|table| table.running().files.insert(file)).ok_or(EMFILE)
}

/// `lseek(fd, offset, whence)`.
pub fn seek(descriptor: usize, offset: isize, whence: usize) -> Outcome {
    let file = file(descriptor)?;
    schemes::seek(&file, offset, whence)
}

/// `fstat(fd, stat, size)`.
pub fn status(descriptor: usize, stat: usize, size: usize) -> Outcome {
    let file = file(descriptor)?;
    if size < core::mem::size_of::<Stat>() {
        return Err(EINVAL);
    }
    let (length, mode) = schemes::status(&file);
    let value = Stat {
        st_size: length,
        st_mode: mode,
        st_nlink: 1,
        st_blksize: 4096,
        ..Stat::default()
    };
    user_memory::write(stat, value)?;
    Ok(0)
}
