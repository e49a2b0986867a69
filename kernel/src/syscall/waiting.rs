//! `SYS_WAIT_ANY`: wait for the first ready of several descriptors (`kernel_core::abi`).

use super::{user_memory, Outcome};
use crate::arch::Cpu;
use crate::process;
use alloc::vec::Vec;
use kernel_core::abi::{MAX_WAIT_DESCRIPTORS, WAIT_FOREVER};
use kernel_core::user_mode::UserMode;
use redox_syscall::error::{EBADF, EINVAL};

/// `wait_any(descriptors, count, timeout_ns)`.
pub fn wait_any(descriptors: usize, count: usize, timeout: usize) -> Outcome {
    if count == 0 || count > MAX_WAIT_DESCRIPTORS {
        return Err(EINVAL);
    }
    let size = core::mem::size_of::<usize>();
    let bytes = user_memory::bytes(descriptors, count * size)?;
    let numbers: Vec<usize> = bytes
        .chunks_exact(size)
        .map(|chunk| usize::from_le_bytes(chunk.try_into().expect("chunks of usize")))
        .collect();
    let files = process::with(|table| {
        let files = &table.running().files;
        numbers
            .iter()
            .map(|number| files.get(*number))
            .collect::<Option<Vec<_>>>()
    })
    .ok_or(EBADF)?;
    let deadline = (timeout != WAIT_FOREVER)
        .then(|| Cpu::monotonic_nanoseconds().saturating_add(timeout as u64));
    crate::interrupts::wait::wait_any(&files, deadline)
}
