//! `SYS_WAIT_ANY`: wait for the first ready of several descriptors (`kernel_core::abi`).
//!
//! Each descriptor's scheme says whether it is ready (`object::Scheme::ready`; a scheme that
//! cannot be waited on refuses with `EINVAL`); while none is, the caller parks on
//! `process::READINESS`, which every source of readiness wakes, until its deadline.

use super::user_memory::UserSlice;
use super::Outcome;
use crate::arch::Cpu;
use crate::object::{File, OpenFile};
use crate::process;
use alloc::vec::Vec;
use kernel_core::abi::{MAX_WAIT_DESCRIPTORS, WAIT_FOREVER};
use kernel_core::user_mode::UserMode;
use kernel_core::Error;

/// `wait_any(descriptors, count, timeout_ns)`.
pub fn wait_any(descriptors: usize, count: usize, timeout: usize) -> Outcome {
    if count == 0 || count > MAX_WAIT_DESCRIPTORS {
        return Err(Error::InvalidArgument);
    }
    const WORD: usize = core::mem::size_of::<usize>();
    let mut words = [0u8; MAX_WAIT_DESCRIPTORS * WORD];
    let words = &mut words[..count * WORD];
    UserSlice::new(descriptors, words.len())?.copy_to_kernel(0, words)?;
    let mut files = Vec::new();
    files.try_reserve_exact(count)?;
    let found = process::with(|table| {
        let table = &table.running_process().files;
        words.chunks_exact(WORD).all(|word| {
            let number = usize::from_ne_bytes(word.try_into().expect("chunks of a word"));
            table.get(number).map(|file| files.push(file)).is_some()
        })
    });
    let outcome = if found {
        let deadline = (timeout != WAIT_FOREVER)
            .then(|| Cpu::monotonic_nanoseconds().saturating_add(timeout as u64));
        first_ready(&files, deadline)
    } else {
        Err(Error::BadDescriptor)
    };
    for file in files {
        OpenFile::release(file);
    }
    outcome
}

/// The position of the first of `files` that is ready, parking until one is; `TimedOut`
/// once the monotonic clock passes `deadline`.
fn first_ready(files: &[File], deadline: Option<u64>) -> Outcome {
    process::READINESS
        .wait_until_deadline(deadline, || {
            files.iter().enumerate().find_map(|(position, file)| {
                match file.scheme.ready(file.handle) {
                    Ok(true) => Some(Ok(position)),
                    Ok(false) => None,
                    Err(error) => Some(Err(error)),
                }
            })
        })?
        .ok_or(Error::TimedOut)?
}
