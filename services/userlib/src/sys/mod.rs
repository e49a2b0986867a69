//! System calls: Redox's wrappers re-exported, and coherent's own calls.
//!
//! The Redox wrappers (`read`, `write`, `fmap`, `funmap`, `mprotect`, `fstat`, `sched_yield`,
//! `clock_gettime`, `nanosleep`) come unchanged from `redox_syscall`, whose numbers, flags and
//! structures the kernel follows. The calls that crate lacks or that coherent numbers itself
//! (`kernel_core::abi`) are here, built on the same `syscallN` instruction sequences, so every
//! result is decoded the Redox way: `-errno` becomes `Err(Error { errno })`.

mod events;
mod file;
mod process;

pub use events::{wait_any, Interrupt};
pub use file::{call, close, dup, open, random, read_file, read_to_end};
pub use kernel_core::rights::Rights;
pub use process::{
    caller_rights, device_quiesce_state, exit, getpid, kill, pack_arguments, power_off, spawn,
    spawn_with_rights, try_power_off, waitpid, Ending,
};

pub use kernel_core::abi;
pub use syscall::error::{self, Error, Result};
pub use syscall::flag;
pub use syscall::{
    clock_gettime, fmap, fstat, funmap, mprotect, nanosleep, read, sched_yield, write,
};
pub use syscall::{Map, MapFlags, Stat, TimeSpec};
