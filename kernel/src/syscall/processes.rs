//! Process system calls: spawn, waitpid, kill, power off.

use super::{user_memory, Outcome};
use crate::arch::{Arch, Cpu, ExitStatus};
use crate::process::{self, SpawnError, INIT};
use alloc::vec::Vec;
use kernel_core::abi::SpawnRights;
use kernel_core::abi::WAIT_NO_HANG;
use kernel_core::rights::Rights;
use redox_syscall::error::{EAGAIN, ECHILD, EINTR, EINVAL, ENOENT, ENOEXEC, ENOMEM, EPERM, ESRCH};

/// The most bytes of arguments `spawn` takes.
const MAX_ARGUMENTS: usize = 16 * 1024;

/// The longest manifest section name `spawn` takes.
const MAX_SECTION: usize = 64;

/// `spawn(path, path_length, arguments, arguments_length, rights)`: the child gets the
/// rights of the manifest section `rights` (a `SpawnRights`) names, or none when `rights` is
/// 0. `ENOENT` for an unknown section, `EPERM` when the caller may not grant its rights,
/// `EAGAIN` when the caller already has `MAX_CHILDREN` children.
pub fn spawn(
    path: usize,
    path_length: usize,
    arguments: usize,
    arguments_length: usize,
    rights: usize,
) -> Outcome {
    let path = user_memory::string(path, path_length, kernel_core::path::MAX_PATH)?;
    let parent = process::current();
    if process::with(|table| table.children_of(parent)) >= process::MAX_CHILDREN {
        return Err(EAGAIN);
    }
    let rights = if rights == 0 {
        Rights::none()
    } else {
        let request: SpawnRights = user_memory::read(rights)?;
        let section = user_memory::string(
            usize::try_from(request.section_address).map_err(|_| EINVAL)?,
            usize::try_from(request.section_length).map_err(|_| EINVAL)?,
            MAX_SECTION,
        )?;
        let rights = crate::ipc::section_rights(section).ok_or(ENOENT)?;
        let allowed = process::with(|table| table.running().rights.may_grant(section, &rights));
        if !allowed {
            log::warn!(
                "process {} may not grant the rights of section {section}",
                process::current()
            );
            return Err(EPERM);
        }
        rights
    };
    if arguments_length > MAX_ARGUMENTS {
        return Err(EINVAL);
    }
    let buffer = user_memory::bytes(arguments, arguments_length)?;
    let mut argv: Vec<&[u8]> = Vec::new();
    argv.push(path.as_bytes());
    if !buffer.is_empty() {
        let buffer = buffer.strip_suffix(&[0]).unwrap_or(buffer);
        argv.extend(buffer.split(|byte| *byte == 0));
    }
    let path = path.strip_prefix("initfs:").unwrap_or(path);
    process::spawn(path, &argv, Some(parent), rights)
        .map(|id| id as usize)
        .map_err(|error| match error {
            SpawnError::NotFound => ENOENT,
            SpawnError::NotExecutable => ENOEXEC,
            SpawnError::OutOfMemory => ENOMEM,
            SpawnError::BadArguments => EINVAL,
            SpawnError::NoProcessNumber => EAGAIN,
        })
}

/// `waitpid(pid, status, flags)`.
pub fn wait(pid: usize, status: usize, flags: usize) -> Outcome {
    if flags & !WAIT_NO_HANG != 0 || pid > u32::MAX as usize {
        return Err(EINVAL);
    }
    if status != 0 {
        user_memory::bytes_mut(status, 8)?;
    }
    match process::wait(pid as u32, flags & WAIT_NO_HANG != 0) {
        Ok(Some((child, code))) => {
            if status != 0 {
                user_memory::write(status, code)?;
            }
            Ok(child as usize)
        }
        Ok(None) => Ok(0),
        Err(process::WaitError::NoChild) => Err(ECHILD),
        Err(process::WaitError::Killed) => Err(EINTR),
    }
}

/// `kill(pid)`: see `kernel_core::abi::SYS_KILL`.
pub fn kill(pid: usize) -> Outcome {
    let pid = u32::try_from(pid).map_err(|_| ESRCH)?;
    match process::kill(pid) {
        Ok(()) => Ok(0),
        Err(process::KillError::NoProcess) => Err(ESRCH),
        Err(process::KillError::NotPermitted) => Err(EPERM),
    }
}

/// `power_off(status)`: init, in a test image, ends the run (test kernels only; the product
/// kernel answers `EPERM`, see `test_hooks`).
pub fn power_off(status: usize) -> Outcome {
    let allowed =
        crate::test_hooks::is_test_image() && process::with(|table| table.current == INIT);
    if !allowed {
        return Err(EPERM);
    }
    Cpu::power_off(if status == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
