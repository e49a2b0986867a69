//! The kernel's own files: `debug:` (console), `initfs:` (boot files), `sys:` (state as text).

use crate::process::{Bytes, File, OpenFile};
use alloc::string::String;
use redox_syscall::error::{EBADF, EINVAL, ENOENT};
use spin::Mutex;

/// The initfs the `initfs:` scheme serves.
static INITFS: Mutex<Option<image::initfs::Archive<'static>>> = Mutex::new(None);

/// Sets the archive `initfs:` serves.
pub fn init(initfs: Option<image::initfs::Archive<'static>>) {
    *INITFS.lock() = initfs;
}

/// The initfs file at `path` (`bin/init` or `/bin/init`).
pub fn initfs_file(path: &str) -> Option<&'static [u8]> {
    let archive = INITFS.lock();
    let entry = archive.as_ref()?.find(path)?;
    entry.is_file().then_some(entry.data)
}

/// Opens `rest` on kernel scheme `scheme` (`debug`, `initfs` or `sys`) for process `name`.
pub fn open(scheme: &str, rest: &str, name: &str) -> Result<OpenFile, i32> {
    Ok(match scheme {
        "debug" => OpenFile::Debug {
            name: alloc::format!("{name}[{}]", crate::process::current()),
            line: alloc::vec::Vec::new(),
        },
        "initfs" => OpenFile::Bytes {
            data: Bytes::Static(initfs_file(rest).ok_or(ENOENT)?),
            offset: 0,
        },
        _ => OpenFile::Bytes {
            data: Bytes::Owned(super::system::text(rest)?.into_bytes()),
            offset: 0,
        },
    })
}

/// Writes `bytes` to `file`; returns how many were taken.
pub fn write(file: &File, bytes: &[u8]) -> Result<usize, i32> {
    match &mut *file.lock() {
        OpenFile::Debug { name, line } => {
            for &byte in bytes {
                if byte == b'\n' {
                    crate::println!("[{name}] {}", String::from_utf8_lossy(line));
                    line.clear();
                } else if line.len() < 4096 {
                    line.push(byte);
                }
            }
            Ok(bytes.len())
        }
        _ => Err(EBADF),
    }
}

/// Reads from `file` into `buffer`; 0 at the end.
pub fn read(file: &File, buffer: &mut [u8]) -> Result<usize, i32> {
    match &mut *file.lock() {
        OpenFile::Debug { .. } => Ok(0),
        OpenFile::SchemeSocket { .. } | OpenFile::User(_) | OpenFile::Pool { .. } => Err(EBADF),
        OpenFile::Bytes { data, offset } | OpenFile::Device { data, offset, .. } => {
            let data = data.as_slice();
            let start = (*offset).min(data.len());
            let count = buffer.len().min(data.len() - start);
            buffer[..count].copy_from_slice(&data[start..start + count]);
            *offset = start + count;
            Ok(count)
        }
    }
}

/// Moves the position of `file` (Redox `SEEK_SET` 0, `SEEK_CUR` 1, `SEEK_END` 2).
pub fn seek(file: &File, offset: isize, whence: usize) -> Result<usize, i32> {
    match &mut *file.lock() {
        OpenFile::Debug { .. }
        | OpenFile::SchemeSocket { .. }
        | OpenFile::User(_)
        | OpenFile::Pool { .. } => Err(redox_syscall::error::ESPIPE),
        OpenFile::Bytes {
            data,
            offset: position,
        }
        | OpenFile::Device {
            data,
            offset: position,
            ..
        } => {
            let base = match whence {
                0 => 0isize,
                1 => *position as isize,
                2 => data.as_slice().len() as isize,
                _ => return Err(EINVAL),
            };
            let target = base
                .checked_add(offset)
                .filter(|target| *target >= 0)
                .ok_or(EINVAL)?;
            *position = target as usize;
            Ok(*position)
        }
    }
}

/// Size and mode of `file` for `fstat`: (size, mode).
pub fn status(file: &File) -> (u64, u16) {
    match &*file.lock() {
        OpenFile::Debug { .. } | OpenFile::SchemeSocket { .. } | OpenFile::User(_) => {
            (0, 0o020_620)
        }
        OpenFile::Pool { size, .. } => (*size, 0o100_600),
        OpenFile::Bytes { data, .. } | OpenFile::Device { data, .. } => {
            (data.as_slice().len() as u64, 0o100_444)
        }
    }
}
