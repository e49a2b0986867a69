//! Process system calls: spawn, waitpid, kill, power off, and threads (spawn, join).

use super::user_memory::{self, UserSlice};
use super::Outcome;
use crate::arch::{Arch, Cpu, ExitStatus};
use crate::process::{self, INIT};
use alloc::vec::Vec;
use kernel_core::abi::SpawnRights;
use kernel_core::abi::WAIT_NO_HANG;
use kernel_core::rights::Rights;
use kernel_core::Error;

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
    let path = UserSlice::new(path, path_length)?.read_string(kernel_core::path::MAX_PATH)?;
    let parent = process::current();
    if process::with(|table| table.children_of(parent)) >= process::MAX_CHILDREN {
        return Err(Error::TryAgain);
    }
    let rights = if rights == 0 {
        Rights::none()
    } else {
        let request: SpawnRights = user_memory::read(rights)?;
        let section = UserSlice::new(
            usize::try_from(request.section_address).map_err(|_| Error::InvalidArgument)?,
            usize::try_from(request.section_length).map_err(|_| Error::InvalidArgument)?,
        )?
        .read_string(MAX_SECTION)?;
        let rights = crate::ipc::section_rights(&section).ok_or(Error::NotFound)?;
        let allowed =
            process::with(|table| table.running_process().rights.may_grant(&section, &rights));
        if !allowed {
            log::warn!("process {parent} may not grant the rights of section {section}");
            return Err(Error::NotPermitted);
        }
        rights
    };
    if arguments_length > MAX_ARGUMENTS {
        return Err(Error::InvalidArgument);
    }
    let buffer = UserSlice::new(arguments, arguments_length)?.read_vec()?;
    let mut argv: Vec<&[u8]> = Vec::new();
    argv.try_reserve(1 + buffer.iter().filter(|byte| **byte == 0).count() + 1)?;
    argv.push(path.as_bytes());
    if !buffer.is_empty() {
        let buffer = buffer.strip_suffix(&[0]).unwrap_or(&buffer);
        argv.extend(buffer.split(|byte| *byte == 0));
    }
    let path = path.strip_prefix("initfs:").unwrap_or(&path);
    crate::lifecycle::spawn(path, &argv, Some(parent), rights).map(|id| id as usize)
}

/// `waitpid(pid, status, flags)`.
pub fn wait(pid: usize, status: usize, flags: usize) -> Outcome {
    if flags & !WAIT_NO_HANG != 0 || pid > u32::MAX as usize {
        return Err(Error::InvalidArgument);
    }
    if status != 0 {
        UserSlice::of::<u64>(status)?.check_writable()?;
    }
    match process::wait(pid as u32, flags & WAIT_NO_HANG != 0)? {
        Some((child, code)) => {
            if status != 0 {
                user_memory::write(status, code)?;
            }
            Ok(child as usize)
        }
        None => Ok(0),
    }
}

/// `kill(pid)`: see `kernel_core::abi::SYS_KILL`.
pub fn kill(pid: usize) -> Outcome {
    let pid = u32::try_from(pid).map_err(|_| Error::NoSuchProcess)?;
    process::kill(pid).map(|()| 0)
}

/// `thread_spawn(entry, stack_top, argument)`: see `kernel_core::abi::SYS_THREAD_SPAWN`.
pub fn spawn_thread(entry: usize, stack_top: usize, argument: usize) -> Outcome {
    crate::lifecycle::spawn_thread(entry as u64, stack_top as u64, argument as u64)
        .map(|id| id as usize)
}

/// `thread_join(tid)`: see `kernel_core::abi::SYS_THREAD_JOIN`.
pub fn join_thread(tid: usize) -> Outcome {
    let tid = u32::try_from(tid).map_err(|_| Error::NoSuchProcess)?;
    process::thread::join(tid).map(|status| status as usize)
}

/// `power_off(status)`: init, in a test image, ends the run (test kernels only, see
/// `test_hooks`); in any kernel a process granted the `power` right (`power = true` in its
/// manifest section: the shell's `poweroff`) may turn the machine off. Anyone else gets
/// `EPERM`.
pub fn power_off(status: usize) -> Outcome {
    let (is_init, has_power_right) = process::with(|table| {
        let current = table.current();
        (current == INIT, table.running_process().rights.power)
    });
    let allowed = has_power_right || (crate::test_hooks::is_test_image() && is_init);
    if !allowed {
        return Err(Error::NotPermitted);
    }
    Cpu::power_off(if status == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
