//! System calls: the Redox ABI plus coherent's own numbers (`kernel_core::abi`).
//!
//! Every call checks its arguments — descriptor, flags, lengths, and each pointer against the
//! caller's address space — before it changes anything; a bad request gets an errno and
//! leaves the system as it was. Inside the kernel errors are `kernel_core::Error`; this is
//! the one place they become Redox errnos, returned as `-errno`. Every argument that points
//! to user memory is copied in and out through `user_memory::UserSlice`.

mod dma_sync;
mod files;
mod memory;
mod processes;
mod time;
pub mod user_memory;
mod waiting;

use kernel_core::abi;
use kernel_core::user_mode::UserRegisters;
use kernel_core::Error;
use redox_syscall::number as redox;

/// A system call's outcome: a value or an errno.
pub type Outcome = Result<usize, Error>;

/// Runs the system call in `frame` and stores its result there.
pub fn dispatch(frame: &mut impl UserRegisters) {
    let argument = |index| frame.system_call_argument(index);
    let [a, b, c, d] = [argument(0), argument(1), argument(2), argument(3)];
    let e = argument(4);
    let outcome = match frame.system_call_number() {
        redox::SYS_WRITE => files::write(a, b, c),
        redox::SYS_READ => files::read(a, b, c),
        redox::SYS_CLOSE => files::close(a),
        redox::SYS_LSEEK => files::seek(a, b as isize, c),
        redox::SYS_FSTAT => files::status(a, b, c),
        abi::SYS_OPEN => files::open(a, b, c),
        redox::SYS_CALL => files::call(a, b, c),
        abi::SYS_DUP => files::duplicate(a),
        redox::SYS_FMAP => memory::map(a, b, c),
        redox::SYS_FUNMAP => memory::unmap(a, b),
        redox::SYS_MPROTECT => memory::protect(a, b, c),
        redox::SYS_YIELD => {
            crate::process::reschedule(true);
            Ok(0)
        }
        redox::SYS_CLOCK_GETTIME => time::clock_get_time(a, b),
        redox::SYS_NANOSLEEP => time::sleep(a, b),
        abi::SYS_EXIT => crate::lifecycle::exit_current(u64::from(a as u32)),
        abi::SYS_SPAWN => processes::spawn(a, b, c, d, e),
        abi::SYS_WAITPID => processes::wait(a, b, c),
        abi::SYS_GETPID => Ok(crate::process::current() as usize),
        abi::SYS_POWER_OFF => processes::power_off(a),
        abi::SYS_WAIT_ANY => waiting::wait_any(a, b, c),
        abi::SYS_KILL => processes::kill(a),
        abi::SYS_THREAD_SPAWN => processes::spawn_thread(a, b, c),
        abi::SYS_THREAD_EXIT => crate::lifecycle::exit_thread(u64::from(a as u32)),
        abi::SYS_THREAD_JOIN => processes::join_thread(a),
        abi::SYS_SET_AFFINITY => crate::process::set_affinity(a as u64).map(|()| 0),
        abi::SYS_DMA_SYNC => dma_sync::sync(a, b, c),
        _ => Err(Error::NoSystemCall),
    };
    // A process killed during its call dies here, holding nothing (see `process::kill`).
    crate::lifecycle::exit_if_killed();
    frame.set_system_call_result(match outcome {
        Ok(value) => value,
        Err(error) => (-(error.errno() as isize)) as usize,
    });
}
