//! Descriptor system calls: open, read, write, call, close, dup, lseek, fstat. Each finds
//! the descriptor's open file and asks its scheme; user memory goes as a `UserSlice`.

use super::user_memory::{self, UserSlice};
use super::Outcome;
use crate::fallible::try_string;
use crate::object::{Caller, File, OpenFile};
use crate::process;
use crate::schemes;
use kernel_core::Error;
use redox_syscall::data::Stat;

fn file(descriptor: usize) -> Result<File, Error> {
    process::with(|table| table.running_process().files.get(descriptor)).ok_or(Error::BadDescriptor)
}

/// Runs `body` on the open file behind `descriptor`, then lets go of the reference (which
/// closes it if a `close` came meanwhile).
fn with_file(descriptor: usize, body: impl FnOnce(&OpenFile) -> Outcome) -> Outcome {
    let file = file(descriptor)?;
    let outcome = body(&file);
    OpenFile::release(file);
    outcome
}

/// Installs `file` in the running process's table; a refused file is released after the
/// table's lock is (closing may tell a server, which takes that lock).
fn install(file: File) -> Outcome {
    match process::with(|table| table.running_process().files.insert(file)) {
        Ok(number) => Ok(number),
        Err((file, error)) => {
            OpenFile::release(file);
            Err(error)
        }
    }
}

/// `open(path, length, flags)`.
pub fn open(path: usize, length: usize, flags: usize) -> Outcome {
    let path = UserSlice::new(path, length)?.read_string(kernel_core::path::MAX_PATH)?;
    let (pid, name, rights) = process::with(|table| {
        let running = table.running_process();
        let name = try_string(&running.name)?;
        Ok::<_, Error>((running.id, name, running.rights.clone()))
    })?;
    let caller = Caller {
        pid,
        name: &name,
        rights: &rights,
    };
    install(schemes::open(&path, &caller, flags)?)
}

/// The open file behind `descriptor` (`EBADF`), and then the check of `bytes` (readable, or
/// with `write` writable: `EFAULT`), in one hold of the process table.
fn file_for(descriptor: usize, bytes: &UserSlice, write: bool) -> Result<File, Error> {
    let (file, checked) = process::with(|table| {
        let running = table.running_process();
        let file = running.files.get(descriptor).ok_or(Error::BadDescriptor)?;
        Ok::<_, Error>((file, bytes.check_in(running, write)))
    })?;
    match checked {
        Ok(()) => Ok(file),
        Err(error) => {
            // Released once the table's lock is (closing may tell a server).
            OpenFile::release(file);
            Err(error)
        }
    }
}

/// Runs `body` on the open file behind `descriptor` with `bytes` checked (see
/// [`file_for`]), then lets go of the reference.
fn with_checked_file(
    descriptor: usize,
    bytes: &UserSlice,
    write: bool,
    body: impl FnOnce(&OpenFile) -> Outcome,
) -> Outcome {
    let file = file_for(descriptor, bytes, write)?;
    let outcome = body(&file);
    OpenFile::release(file);
    outcome
}

/// `write(fd, buffer, length)`.
pub fn write(descriptor: usize, buffer: usize, length: usize) -> Outcome {
    let bytes = UserSlice::new(buffer, length);
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(error) => return with_file(descriptor, |_| Err(error)),
    };
    with_checked_file(descriptor, &bytes, false, |file| {
        file.scheme.write(file.handle, &bytes)
    })
}

/// `read(fd, buffer, length)`.
pub fn read(descriptor: usize, buffer: usize, length: usize) -> Outcome {
    let mut bytes = match UserSlice::new(buffer, length) {
        Ok(bytes) => bytes,
        Err(error) => return with_file(descriptor, |_| Err(error)),
    };
    let checked = bytes;
    with_checked_file(descriptor, &checked, true, |file| {
        file.scheme.read(file.handle, &mut bytes)
    })
}

/// `call(fd, payload, length, flags, metadata, metadata_length)`: the payload goes to the
/// scheme and the answer comes back over it.
pub fn call(descriptor: usize, buffer: usize, length: usize) -> Outcome {
    let mut bytes = match UserSlice::new(buffer, length) {
        Ok(bytes) => bytes,
        Err(error) => return with_file(descriptor, |_| Err(error)),
    };
    let input = bytes;
    with_checked_file(descriptor, &input, true, |file| {
        file.scheme.call(file.handle, &input, &mut bytes)
    })
}

/// `close(fd)`.
pub fn close(descriptor: usize) -> Outcome {
    let file = process::with(|table| table.running_process().files.remove(descriptor))
        .ok_or(Error::BadDescriptor)?;
    OpenFile::release(file);
    Ok(0)
}

/// `dup(fd)`: a new descriptor sharing the open file.
pub fn duplicate(descriptor: usize) -> Outcome {
    install(file(descriptor)?)
}

/// `lseek(fd, offset, whence)`.
pub fn seek(descriptor: usize, offset: isize, whence: usize) -> Outcome {
    with_file(descriptor, |file| {
        file.scheme.seek(file.handle, offset, whence)
    })
}

/// `fstat(fd, stat, size)`.
pub fn status(descriptor: usize, stat: usize, size: usize) -> Outcome {
    with_file(descriptor, |file| {
        if size < core::mem::size_of::<Stat>() {
            return Err(Error::InvalidArgument);
        }
        let status = file.scheme.status(file.handle)?;
        let value = Stat {
            st_size: status.size,
            st_mode: status.mode,
            st_nlink: 1,
            st_blksize: 4096,
            ..Stat::default()
        };
        user_memory::write(stat, value)?;
        Ok(0)
    })
}
