//! Starting and ending processes, where the layers meet: a spawn reads its program from
//! `initfs:`, and an exit must tell servers (`Munmap` for every borrowed mapping, `Close` for
//! every descriptor) and unregister the schemes the process served.
//!
//! The process table (`process`) knows none of that; this module calls each layer in turn,
//! holding no lock across the calls, so every side effect of an exit happens here, in order:
//! quiesce the devices it held (`devices::quiesce`: bus mastering off or transport reset,
//! read back), revoke what the process lent (one TLB flush), destroy its space and send the
//! `Munmap`s, release its descriptors (`Close`s), fail its servers' pending requests, switch
//! away. Quiescing comes first because dmad returns a buffer to its pool on those
//! `Munmap`s and `Close`s: by then the device can no longer write into it, or the kernel
//! says it could not confirm that and dmad quarantines the buffer.
//!
//! A killed process (`process::kill` marks it) dies through the same exit, called where it
//! holds nothing: [`exit_if_killed`] at the end of each system call and after a timer tick
//! from user mode, and in [`first_code`], before a process killed before it ever ran
//! executes a user instruction.

use crate::devices;
use crate::ipc;
use crate::object::{OpenFile, MAX_DESCRIPTORS};
use crate::process::{self, ProcessId};
use crate::schemes;
use kernel_core::abi::EXIT_KILLED;
use kernel_core::rights::Rights;
use kernel_core::Error;

/// Loads the initfs program at `path` as a child of `parent` holding `rights` (already
/// checked as the parent's to give). `NotFound` for a path the initfs lacks.
pub fn spawn(
    path: &str,
    arguments: &[&[u8]],
    parent: Option<ProcessId>,
    rights: Rights,
) -> Result<ProcessId, Error> {
    let program = schemes::initfs_file(path).ok_or(Error::NotFound)?;
    process::spawn(program, path, arguments, parent, rights, first_code)
}

/// The first code a new process runs, on its kernel stack: it dies here if it was killed
/// before it ran, and enters user mode otherwise.
extern "C" fn first_code(id: usize) -> ! {
    exit_if_killed();
    process::enter_user(id as ProcessId)
}

/// Ends the running process with `EXIT_KILLED` if someone killed it (`process::kill`).
/// Called only where it holds nothing: see the module documentation.
pub fn exit_if_killed() {
    if process::kill_requested() {
        exit_current(EXIT_KILLED);
    }
}

/// Starts a thread of the running process (`SYS_THREAD_SPAWN`); it too begins in
/// [`first_code`], so a thread whose process was killed before it ran dies there.
pub fn spawn_thread(entry: u64, stack_top: u64, argument: u64) -> Result<ProcessId, Error> {
    process::thread::spawn(entry, stack_top, argument, first_code)
}

/// Ends the running thread with `status` (`SYS_THREAD_EXIT`): the process goes on unless
/// this was its last thread, which ends it with `status`.
pub fn exit_thread(status: u64) -> ! {
    match process::thread::stop(status, false) {
        Some(final_status) => end_process(final_status),
        None => process::thread::finish(),
    }
}

/// Ends the running process with `status` (`SYS_EXIT`, a fault, a kill) and switches away
/// for good. Every other thread of it is killed; the last one to stop tears the process
/// down (see `process::thread`), so its space and descriptors go once, after all stopped.
pub fn exit_current(status: u64) -> ! {
    match process::thread::stop(status, true) {
        Some(final_status) => end_process(final_status),
        None => process::thread::finish(),
    }
}

/// Tears down the running thread's process, whose other threads have all stopped, and
/// switches away for good.
fn end_process(status: u64) -> ! {
    let exiting = process::begin_exit(status);
    let open_files = (0..MAX_DESCRIPTORS)
        .filter(|number| exiting.files.get(*number).is_some())
        .count();
    devices::quiesce::release_all_of(exiting.id, open_files);
    process::revoke_lent(exiting.id);
    if let Some(space) = exiting.space {
        process::leave_space();
        for (origin, size) in space.destroy() {
            ipc::notify_unmap(&origin, size, ipc::Delivery::Always);
        }
    }
    let mut files = exiting.files;
    for file in files.take_all() {
        OpenFile::release(file);
    }
    ipc::server_exited(exiting.id);
    process::finish_exit(exiting.id, status)
}

/// Kills the running process after a fault in user mode, saying why.
pub fn kill_current(fault: kernel_core::Fault, instruction: u64) -> ! {
    process::report_fault(fault, instruction);
    exit_current(EXIT_KILLED)
}
