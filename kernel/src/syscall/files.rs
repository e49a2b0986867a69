//! Descriptor system calls: open, read, write, close, dup, lseek, fstat.

use super::{user_memory, Outcome};
use crate::ipc;
use crate::process;
use crate::schemes::{self, Target};
use alloc::vec::Vec;
use kernel_core::abi::SCHEME_MAX_PAYLOAD;
use redox_syscall::data::Stat;
use redox_syscall::error::{EBADF, EINVAL, EMFILE};
use redox_syscall::schemev2::Opcode;

fn file(descriptor: usize) -> Result<process::File, i32> {
    process::with(|table| table.running().files.get(descriptor)).ok_or(EBADF)
}

/// `open(path, length, flags)`.
pub fn open(path: usize, length: usize, flags: usize) -> Outcome {
    let path = user_memory::string(path, length, kernel_core::path::MAX_PATH)?;
    let (name, rights) = process::with(|table| {
        let running = table.running();
        (running.name.clone(), running.rights.clone())
    });
    let file = schemes::open(path, &name, &rights, flags)?;
    // A refused file is dropped after the table's lock is released: dropping a user-scheme
    // file sends its server `Close`, which takes that lock.
    process::with(|table| table.running().files.insert(file)).map_err(|_refused| EMFILE)
}

/// `write(fd, buffer, length)`.
pub fn write(descriptor: usize, buffer: usize, length: usize) -> Outcome {
    let file = file(descriptor)?;
    let bytes = user_memory::bytes(buffer, length)?;
    match schemes::target(&file) {
        Target::Socket(name) => ipc::answer(&name, bytes),
        Target::User(scheme, handle) => {
            let payload = bytes[..bytes.len().min(SCHEME_MAX_PAYLOAD)].to_vec();
            let args = [handle, payload.len() as u64, 0, 0, 0, 0];
            ipc::result(&ipc::request(&scheme, Opcode::Write, args, payload, false)?)
        }
        Target::Pool(..) | Target::Device(_) => Err(EBADF),
        Target::Interrupt(index) => crate::interrupts::acknowledge(index, bytes),
        Target::Kernel => schemes::write(&file, bytes),
    }
}

/// `read(fd, buffer, length)`.
pub fn read(descriptor: usize, buffer: usize, length: usize) -> Outcome {
    let file = file(descriptor)?;
    let bytes = user_memory::bytes_mut(buffer, length)?;
    match schemes::target(&file) {
        Target::Socket(name) => ipc::receive(&name, length, |message| {
            user_memory::bytes_mut(buffer, message.len())?.copy_from_slice(message);
            Ok(())
        }),
        Target::User(scheme, handle) => {
            let args = [handle, 0, length as u64, 0, 0, 0];
            let reply = ipc::request(&scheme, Opcode::Read, args, Vec::new(), false)?;
            let count = ipc::result(&reply)?.min(reply.payload.len()).min(length);
            user_memory::bytes_mut(buffer, length)?[..count]
                .copy_from_slice(&reply.payload[..count]);
            Ok(count)
        }
        Target::Pool(..) => Err(EBADF),
        Target::Interrupt(index) => {
            if bytes.len() < 8 {
                return Err(EINVAL);
            }
            let count = crate::interrupts::read(index)?;
            user_memory::bytes_mut(buffer, 8)?.copy_from_slice(&count.to_le_bytes());
            Ok(8)
        }
        Target::Kernel | Target::Device(_) => schemes::read(&file, bytes),
    }
}

/// `call(fd, payload, length, flags, metadata, metadata_length)`: the payload goes to the
/// server and the reply comes back over it. Only user schemes answer calls.
pub fn call(descriptor: usize, buffer: usize, length: usize) -> Outcome {
    let file = file(descriptor)?;
    if let Target::Socket(scheme) = schemes::target(&file) {
        return caller_rights(&scheme, buffer, length);
    }
    let Target::User(scheme, handle) = schemes::target(&file) else {
        return Err(EBADF);
    };
    if length > SCHEME_MAX_PAYLOAD {
        return Err(EINVAL);
    }
    let input = user_memory::bytes_mut(buffer, length)?.to_vec();
    let args = [handle, input.len() as u64, length as u64, 0, 0, 0];
    let reply = ipc::request(&scheme, Opcode::Call, args, input, false)?;
    let count = ipc::result(&reply)?.min(reply.payload.len()).min(length);
    user_memory::bytes_mut(buffer, length)?[..count].copy_from_slice(&reply.payload[..count]);
    Ok(count)
}

/// `call` on a scheme socket: the buffer holds a pending request's tag (4 bytes, little
/// endian) and receives the rights of the process that sent it, as `Rights::to_text`.
/// `ENOENT` when no request with that tag is waiting for this server's answer.
fn caller_rights(scheme: &str, buffer: usize, length: usize) -> Outcome {
    let tag = user_memory::bytes_mut(buffer, length)?
        .get(..4)
        .ok_or(EINVAL)?
        .try_into()
        .map(u32::from_le_bytes)
        .map_err(|_| EINVAL)?;
    let text = ipc::caller_rights(scheme, tag)?.to_text();
    let target = user_memory::bytes_mut(buffer, length)?;
    if text.len() > target.len() {
        return Err(EINVAL);
    }
    target[..text.len()].copy_from_slice(text.as_bytes());
    Ok(text.len())
}

/// `close(fd)`.
pub fn close(descriptor: usize) -> Outcome {
    process::with(|table| table.running().files.remove(descriptor)).ok_or(EBADF)?;
    Ok(0)
}

/// `dup(fd)`: a new descriptor sharing the open file.
pub fn duplicate(descriptor: usize) -> Outcome {
    let file = file(descriptor)?;
    process::with(|table| table.running().files.insert(file)).map_err(|_refused| EMFILE)
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
