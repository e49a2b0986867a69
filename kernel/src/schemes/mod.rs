//! Opening by path: the kernel's own schemes (`debug:`, `initfs:`, `sys:`, `memory:`,
//! `device:`, `irq:`), registering a user scheme (`:NAME`), and opening on a user scheme (any other name).

mod irq;
mod kernel_schemes;
mod system;

pub use kernel_schemes::{init, initfs_file, read, seek, status, write};

use crate::ipc;
use crate::process::{File, OpenFile, UserHandle};
use alloc::sync::Arc;
use alloc::vec::Vec;
use kernel_core::rights::Rights;
use redox_syscall::error::{EACCES, EINVAL, ENOENT};
use redox_syscall::schemev2::Opcode;
use spin::Mutex;

/// Names the kernel serves itself; no process may register them.
const KERNEL_SCHEMES: [&str; 6] = ["debug", "initfs", "sys", "memory", "device", "irq"];

/// Opens `path` for the running process called `name` (for logs) holding `rights`.
pub fn open(path: &str, name: &str, rights: &Rights, flags: usize) -> Result<File, i32> {
    if let Some(scheme) = path.strip_prefix(':') {
        return register(scheme, name, rights);
    }
    let (scheme, rest) = kernel_core::path::parse(path).map_err(|_| EINVAL)?;
    let file = match scheme {
        "debug" | "initfs" | "sys" => kernel_schemes::open(scheme, rest, name)?,
        "memory" => memory(rest, rights)?,
        "device" => device(rest, name, rights)?,
        "irq" => irq::open(rest, crate::process::current(), name, rights)?,
        _ => {
            if !ipc::exists(scheme) {
                return Err(ENOENT);
            }
            let payload: Vec<u8> = rest.as_bytes().to_vec();
            let args = [0, payload.len() as u64, flags as u64, 0, 0, 0];
            let reply = ipc::request(scheme, Opcode::OpenAt, args, payload, false)?;
            let handle = ipc::result(&reply)? as u64;
            OpenFile::User(UserHandle {
                scheme: scheme.into(),
                handle,
            })
        }
    };
    Ok(Arc::new(Mutex::new(file)))
}

fn register(scheme: &str, name: &str, rights: &Rights) -> Result<File, i32> {
    let valid = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if !valid {
        return Err(EINVAL);
    }
    if KERNEL_SCHEMES.contains(&scheme) || !rights.may_serve(scheme) {
        log::warn!("process {name} may not serve scheme {scheme}");
        return Err(EACCES);
    }
    ipc::register(scheme)?;
    Ok(Arc::new(Mutex::new(OpenFile::SchemeSocket {
        name: scheme.into(),
    })))
}

/// `memory:pools` (the pool table as text) and `memory:pool/NAME` (for `fmap`), only for a
/// process holding the right to use `memory`.
fn memory(rest: &str, rights: &Rights) -> Result<OpenFile, i32> {
    if !rights.may_serve(kernel_core::abi::MEMORY_SCHEME) {
        return Err(EACCES);
    }
    let pools = crate::memory::pools::published();
    if rest == "pools" {
        return Ok(OpenFile::Bytes {
            data: crate::process::Bytes::Owned(system::pool_table(&pools).into_bytes()),
            offset: 0,
        });
    }
    let pool_name = rest.strip_prefix("pool/").ok_or(ENOENT)?;
    let pool = pools
        .iter()
        .find(|pool| pool.name == pool_name)
        .ok_or(ENOENT)?;
    Ok(OpenFile::Pool {
        physical: pool.physical_base,
        size: pool.size,
    })
}

/// `device:NAME`, only for a process granted device `NAME`: its description (read) and its
/// register ranges (fmap), both as they were at open time.
fn device(rest: &str, name: &str, rights: &Rights) -> Result<OpenFile, i32> {
    let device = crate::devices::find(rest).ok_or(ENOENT)?;
    if !rights.may_use_device(rest) {
        log::warn!("process {name} may not use device {rest}");
        return Err(EACCES);
    }
    Ok(OpenFile::Device {
        data: crate::process::Bytes::Owned(device.description().into_bytes()),
        offset: 0,
        windows: device.windows(),
    })
}

/// What a descriptor refers to, for system calls that treat kinds differently.
pub enum Target {
    /// A kernel scheme's file.
    Kernel,
    /// The socket of a scheme the caller serves.
    Socket(alloc::string::String),
    /// A user scheme's handle.
    User(alloc::string::String, u64),
    /// A DMA pool: physical base and size.
    Pool(u64, u64),
    /// A device: the physical ranges its driver may map, as (base, size).
    Device(Vec<(u64, u64)>),
    /// A held interrupt line, by its index (`crate::interrupts`).
    Interrupt(usize),
}

/// The kind of `file`, read without holding its lock afterwards.
pub fn target(file: &File) -> Target {
    match &*file.lock() {
        OpenFile::SchemeSocket { name } => Target::Socket(name.clone()),
        OpenFile::User(handle) => Target::User(handle.scheme.clone(), handle.handle),
        OpenFile::Pool { physical, size } => Target::Pool(*physical, *size),
        OpenFile::Device { windows, .. } => Target::Device(windows.clone()),
        OpenFile::Interrupt(holder) => Target::Interrupt(holder.index()),
        _ => Target::Kernel,
    }
}
