//! Process system calls: spawn, waitpid, power off.

use super::{user_memory, Outcome};
use crate::arch::{Arch, Cpu, ExitStatus};
use crate::process::{self, SpawnError, INIT};
use alloc::vec::Vec;
use kernel_core::abi::WAIT_NO_HANG;
use redox_syscall::error::{ECHILD, EINVAL, ENOENT, ENOEXEC, ENOMEM, EPERM};

/// The most bytes of arguments `spawn` takes.
const MAX_ARGUMENTS: usize = 16 * 1024;

/// `spawn(path, path_length, arguments, arguments_length)`.
pub fn spawn(
    path: usize,
    path_length: usize,
    arguments: usize,
    arguments_length: usize,
) -> Outcome {
    let path = user_memory::string(path, path_length, kernel_core::path::MAX_PATH)?;
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
    let parent = process::current();
    let path = path.strip_prefix("initfs:").unwrap_or(path);
    process::spawn(path, &argv, Some(parent))
        .map(|id| id as usize)
        .map_err(|error| match error {
            SpawnError::NotFound => ENOENT,
            SpawnError::NotExecutable => ENOEXEC,
            SpawnError::OutOfMemory => ENOMEM,
            SpawnError::BadArguments => EINVAL,
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
        Err(_) => Err(ECHILD),
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
