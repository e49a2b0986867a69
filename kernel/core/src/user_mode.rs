//! The contract for running user processes: what each CPU port provides to the scheduler
//! and system-call layer, and what the kernel provides back.
//!
//! Model: every thread has its own kernel stack. A trap or system call from user mode saves
//! the user registers as a [`UserMode::UserFrame`] on that stack and calls one of the kernel
//! hooks below. A hook may block (switch to another thread's kernel [`UserMode::Context`]) and
//! return much later; when it returns, the arch crate resumes user mode from the (possibly
//! modified) frame. The kernel runs with interrupts disabled except while idle, so it is
//! never preempted; threads in user mode are preempted by the timer tick.
//!
//! The kernel implements, with exactly these signatures (`#[no_mangle]`):
//!
//! ```ignore
//! /// A system call from user mode: read the number and arguments, write the result.
//! fn kernel_system_call(frame: &mut UserFrame);
//! /// A timer tick, from user mode or from the idle loop. May switch threads.
//! fn kernel_timer_tick();
//! /// A fault in user mode. Never returns to the faulting instruction: the kernel kills the
//! /// process and switches away.
//! fn kernel_user_fault(frame: &mut UserFrame, fault: Fault);
//! ```

use crate::Fault;

/// Register access for a user thread's saved frame, the same on every CPU.
///
/// System-call convention (Redox's): x86_64 number in `rax`, arguments in `rdi, rsi, rdx,
/// r10, r8, r9`, result in `rax`; aarch64 number in `x8`, arguments in `x0..x5`, result in
/// `x0`.
pub trait UserRegisters {
    /// The system call number.
    fn system_call_number(&self) -> usize;
    /// System call argument `index` (0..6).
    fn system_call_argument(&self, index: usize) -> usize;
    /// Sets the value the system call returns.
    fn set_system_call_result(&mut self, value: usize);
    /// Where user mode resumes.
    fn instruction_pointer(&self) -> u64;
    /// The user stack pointer.
    fn stack_pointer(&self) -> u64;
}

/// Devices the timer needs mapped: the kernel maps `(physical, size)` as device memory and
/// returns the virtual address.
pub type MapDevice<'a> = &'a mut dyn FnMut(u64, u64) -> u64;

/// What a CPU port provides for user processes.
pub trait UserMode {
    /// A suspended thread's kernel-side registers (callee-saved registers and stack pointer).
    type Context: Default + Send;
    /// A user thread's registers as saved on its kernel stack on entry to the kernel.
    type UserFrame: UserRegisters;

    /// Prepares `context` so that switching to it runs `entry(argument)` on the kernel stack
    /// whose top is `stack_top`, with interrupts disabled.
    fn initialize_context(
        context: &mut Self::Context,
        stack_top: u64,
        entry: extern "C" fn(usize) -> !,
        argument: usize,
    );

    /// Saves the running thread's kernel registers into `from` and resumes `to`. Returns
    /// when something switches back to `from`.
    ///
    /// # Safety
    /// Both pointers must be valid; `to` must have been initialized or saved by a switch.
    unsafe fn switch_context(from: *mut Self::Context, to: *const Self::Context);

    /// Leaves the kernel for user mode at `entry` with stack pointer `user_stack` and
    /// `argument` in the first argument register (rdi / x0), all other user registers zero,
    /// interrupts enabled in user mode. Traps from user mode then land on the kernel stack
    /// whose top is `kernel_stack_top`.
    ///
    /// # Safety
    /// The active user root must map `entry` executable and the stack writable for user mode.
    unsafe fn enter_user(entry: u64, user_stack: u64, argument: u64, kernel_stack_top: u64) -> !;

    /// Sets the kernel stack traps from user mode use (call on every switch to a thread).
    fn set_kernel_stack(top: u64);

    /// Makes `root` the translation root for user (lower-half) addresses.
    ///
    /// # Safety
    /// `root` must have been prepared with [`UserMode::prepare_user_root`].
    unsafe fn activate_user_root(root: u64);

    /// Fills what a new, zeroed user root needs before use: on x86_64 the kernel's
    /// upper-half entries (one root serves both halves); nothing on aarch64 (TTBR1 keeps the
    /// kernel). `read`/`write` access table entries by (table physical address, index).
    fn prepare_user_root(
        user_root: u64,
        kernel_root: u64,
        read: &dyn Fn(u64, usize) -> u64,
        write: &mut dyn FnMut(u64, usize, u64),
    );

    /// Starts a periodic timer interrupt at `hertz` (LAPIC timer on x86_64, the generic
    /// timer through the GIC on aarch64), mapping the registers it needs with `map_device`.
    fn start_timer(hertz: u32, map_device: MapDevice);

    /// Nanoseconds since boot, monotonic.
    fn monotonic_nanoseconds() -> u64;

    /// The raw counter user programs time with (`rdtsc` on x86_64, CNTVCT_EL0 on aarch64),
    /// in its own ticks; readable before the timer is started.
    fn counter_ticks() -> u64;

    /// Allows interrupts on this CPU.
    fn enable_interrupts();

    /// Masks interrupts on this CPU.
    fn disable_interrupts();

    /// Waits for the next interrupt with interrupts enabled (the idle loop), then returns with
    /// interrupts masked again, after the tick (if any) has been handled.
    fn wait_for_interrupt();
}

/// A user fault's description, for [`Fault`]: re-exported so hooks name one type.
pub type UserFault = Fault;
