//! Threads of this process: [`spawn`] a closure on a fresh stack, [`JoinHandle::join`] it.
//!
//! A thread shares the process's memory, descriptors and rights
//! (`kernel_core::abi::SYS_THREAD_SPAWN`). Its stack is anonymous memory from `fmap`,
//! unmapped by `join`; the closure is boxed on the (locked, so shared) heap and handed to
//! the new thread as its one argument. The closure's return value is the thread's status.
//! A thread that is never joined keeps its stack and its kernel slot until the process
//! ends. A panic in any thread ends the whole process (status 101), as `exit` from any
//! thread does; the process ends normally when its last thread returns.

use alloc::boxed::Box;
use kernel_core::abi::{SYS_SET_AFFINITY, SYS_THREAD_EXIT, SYS_THREAD_JOIN, SYS_THREAD_SPAWN};
use syscall::error::EINVAL;
use syscall::{syscall1, syscall3, Error, Map, MapFlags, Result};

/// One step of a spin-wait on another thread (x86_64 `pause`, aarch64 `yield`; see the
/// arch seam): also hands an emulator that runs every CPU on one host thread to the next CPU.
pub fn spin_hint() {
    crate::arch::spin_hint()
}

/// The smallest stack [`spawn`] gives (and the granule it rounds up to).
pub const MIN_STACK: usize = 16 * 1024;

/// A started thread: join it to get its status and free its stack.
#[must_use = "a thread that is never joined keeps its stack until the process ends"]
pub struct JoinHandle {
    tid: usize,
    stack: usize,
    stack_size: usize,
}

impl JoinHandle {
    /// The thread's id (not a pid: `kill` and `waitpid` do not know it).
    pub fn id(&self) -> usize {
        self.tid
    }

    /// Waits for the thread to end and returns its status; unmaps its stack.
    ///
    /// # Errors
    ///
    /// `EINTR` if this thread is killed meanwhile (the stack then stays mapped).
    pub fn join(self) -> Result<u32> {
        let status = join(self.tid)?;
        // SAFETY: the thread has exited, so nothing uses its stack any more.
        let _ = unsafe { syscall::funmap(self.stack, self.stack_size) };
        Ok(status)
    }
}

/// Starts `body` on a new thread with a stack of `stack_size` bytes (rounded up to
/// [`MIN_STACK`]).
///
/// # Errors
///
/// `ENOMEM` when the stack cannot be mapped or the heap is full; from the kernel `EAGAIN`
/// at the process's thread limit (`kernel_core::abi::MAX_THREADS`).
pub fn spawn<F>(stack_size: usize, body: F) -> Result<JoinHandle>
where
    F: FnOnce() -> u32 + Send + 'static,
{
    let stack_size = stack_size
        .max(MIN_STACK)
        .checked_next_multiple_of(MIN_STACK)
        .ok_or(Error::new(EINVAL))?;
    let map = Map {
        offset: 0,
        size: stack_size,
        flags: MapFlags::PROT_READ | MapFlags::PROT_WRITE | MapFlags::MAP_PRIVATE,
        address: 0,
    };
    // SAFETY: anonymous memory (descriptor `usize::MAX`); the kernel picks the address.
    let stack = unsafe { syscall::fmap(usize::MAX, &map) }?;
    let boxed: Box<Box<dyn FnOnce() -> u32 + Send>> = Box::new(Box::new(body));
    let argument = Box::into_raw(boxed) as usize;
    let top = stack + stack_size;
    // SAFETY: the entry is `thread_start`, the stack is the fresh mapping above (16-byte
    // aligned top), and `argument` is the boxed closure `thread_main` takes back.
    let spawned = unsafe {
        syscall3(
            SYS_THREAD_SPAWN,
            thread_start as *const () as usize,
            top,
            argument,
        )
    };
    match spawned {
        Ok(tid) => Ok(JoinHandle {
            tid,
            stack,
            stack_size,
        }),
        Err(error) => {
            // SAFETY: the thread never started, so the box is still ours alone.
            drop(unsafe { Box::from_raw(argument as *mut Box<dyn FnOnce() -> u32 + Send>) });
            // SAFETY: the stack was mapped above for a thread that never started.
            let _ = unsafe { syscall::funmap(stack, stack_size) };
            Err(error)
        }
    }
}

/// Starts a thread at raw `entry` with stack pointer `stack_top` and `argument` (for tests
/// of the system call itself; [`spawn`] is the safe way).
///
/// # Safety
///
/// `entry` must be code that never returns and `stack_top` memory it may use as a stack.
pub unsafe fn spawn_raw(entry: usize, stack_top: usize, argument: usize) -> Result<usize> {
    // SAFETY: as the caller promises.
    unsafe { syscall3(SYS_THREAD_SPAWN, entry, stack_top, argument) }
}

/// Pins the calling thread to the CPUs whose bits are set in `mask` (bit N = CPU index N);
/// it moves at once if its CPU is not among them (`kernel_core::abi::SYS_SET_AFFINITY`).
///
/// # Errors
///
/// `EINVAL` for an empty mask or one naming a CPU that is not online.
pub fn set_affinity(mask: u64) -> Result<()> {
    // SAFETY: the call takes a plain number.
    unsafe { syscall1(SYS_SET_AFFINITY, mask as usize) }.map(|_| ())
}

/// Waits for thread `tid` of this process and returns its status.
///
/// # Errors
///
/// `ESRCH` for no such thread (or one already joined), `EINVAL` for the caller itself or
/// the first thread, `EINTR` if the caller is killed meanwhile.
pub fn join(tid: usize) -> Result<u32> {
    // SAFETY: no memory is passed.
    unsafe { syscall1(SYS_THREAD_JOIN, tid) }.map(|status| status as u32)
}

/// Ends the calling thread with `status`; the process ends if it was its last thread.
pub fn exit(status: u32) -> ! {
    loop {
        // SAFETY: no memory is passed; the call does not return.
        let _ = unsafe { syscall1(SYS_THREAD_EXIT, status as usize) };
    }
}

/// Where a thread begins: runs the boxed closure and exits with its result.
#[cfg(target_os = "none")]
extern "C" fn thread_main(argument: usize) -> ! {
    // SAFETY: `spawn` passed `Box::into_raw` of exactly this type and gave up the box.
    let body = unsafe { Box::from_raw(argument as *mut Box<dyn FnOnce() -> u32 + Send>) };
    exit(body())
}

/// The thread entry: ends stack walks and calls [`thread_main`] with the argument register
/// untouched (the kernel starts a thread with a 16-byte aligned stack, as `_start`).
#[cfg(all(target_os = "none", target_arch = "x86_64"))]
#[unsafe(naked)]
unsafe extern "C" fn thread_start() -> ! {
    core::arch::naked_asm!("xor ebp, ebp", "call {main}", "ud2", main = sym thread_main)
}

/// The thread entry: ends stack walks and calls [`thread_main`] with `x0` untouched.
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
#[unsafe(naked)]
unsafe extern "C" fn thread_start() -> ! {
    core::arch::naked_asm!(
        "mov x29, xzr",
        "mov x30, xzr",
        "bl {main}",
        "brk #1",
        main = sym thread_main
    )
}

/// Host builds have no threads to start.
#[cfg(not(target_os = "none"))]
extern "C" fn thread_start() -> ! {
    unreachable!("threads start only on the bare-metal target")
}
