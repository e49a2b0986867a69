//! Waiting for the first of several descriptors to become ready (`SYS_WAIT_ANY`).

use crate::arch::Cpu;
use crate::process::{self, File, State};
use crate::schemes::{self, Target};
use kernel_core::user_mode::UserMode;
use redox_syscall::error::{EINVAL, ETIMEDOUT};

/// Whether `file` is ready: a scheme socket with a request queued, or an `irq:` descriptor
/// with an unreported interrupt. Any other kind cannot be waited on (`EINVAL`).
fn ready(file: &File) -> Result<bool, i32> {
    match schemes::target(file) {
        Target::Socket(name) => Ok(crate::ipc::has_request(&name)),
        Target::Interrupt(index) => Ok(super::ready(index)),
        _ => Err(EINVAL),
    }
}

/// Blocks until one of `files` is ready and returns its position (the first ready one), or
/// `ETIMEDOUT` once the monotonic clock passes `deadline` (`None`: no deadline).
pub fn wait_any(files: &[File], deadline: Option<u64>) -> Result<usize, i32> {
    loop {
        for (position, file) in files.iter().enumerate() {
            if ready(file)? {
                return Ok(position);
            }
        }
        if deadline.is_some_and(|deadline| Cpu::monotonic_nanoseconds() >= deadline) {
            return Err(ETIMEDOUT);
        }
        // Nothing can become ready between the checks and here: the kernel runs masked.
        process::with(|table| table.running().state = State::WaitingForEvents(deadline));
        process::reschedule(false);
    }
}
