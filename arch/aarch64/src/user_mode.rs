//! [`Aarch64`]: this CPU's implementation of the kernel's [`UserMode`] contract.

use crate::context::{self, Context};
use crate::user::UserFrame;
use crate::{interrupt, timer, user, Aarch64};
use core::arch::asm;
use kernel_core::user_mode::{MapDevice, UserMode};

impl UserMode for Aarch64 {
    type Context = Context;
    type UserFrame = UserFrame;

    fn initialize_context(
        context: &mut Context,
        stack_top: u64,
        entry: extern "C" fn(usize) -> !,
        argument: usize,
    ) {
        context::initialize(context, stack_top, entry, argument);
    }

    unsafe fn switch_context(from: *mut Context, to: *const Context) {
        // SAFETY: the caller upholds the contract's requirements, which are `switch`'s.
        unsafe { context::switch(from, to) };
    }

    unsafe fn enter_user(entry: u64, user_stack: u64, argument: u64, kernel_stack_top: u64) -> ! {
        // SAFETY: the caller guarantees the user mappings; the contract makes
        // `kernel_stack_top` this thread's own kernel stack.
        unsafe { user::enter(entry, user_stack, argument, kernel_stack_top) }
    }

    /// Nothing to do: a trap from EL0 uses SP_EL1, which is the `sp` the kernel had when it
    /// last left for user mode on this thread — `enter_user` sets it to the stack top, and
    /// every return from a trap restores it to that top, whichever thread ran in between.
    fn set_kernel_stack(_top: u64) {}

    /// Loads TTBR0_EL1. With no ASIDs yet (every user mapping is non-global with ASID 0),
    /// the old process's entries must go: `tlbi vmalle1` drops this CPU's whole TLB,
    /// kernel entries included. ASIDs would make this a plain register write.
    unsafe fn activate_user_root(root: u64) {
        // Hand-written: the TLBI has no wrapper in `aarch64-cpu`, and the TTBR write must sit
        // between the barriers and the invalidation in one sequence.
        // SAFETY: the caller guarantees `root` is a valid user root; TTBR0 only translates
        // lower-half addresses, so the kernel (TTBR1) is unaffected.
        unsafe {
            asm!(
                "dsb ishst",
                "msr ttbr0_el1, {root}",
                "isb",
                "tlbi vmalle1",
                "dsb nsh",
                "isb",
                root = in(reg) root,
                options(nostack, preserves_flags)
            )
        };
    }

    /// Nothing to fill: the kernel stays in TTBR1, so a user root holds only user entries.
    fn prepare_user_root(
        _user_root: u64,
        _kernel_root: u64,
        _read: &dyn Fn(u64, usize) -> u64,
        _write: &mut dyn FnMut(u64, usize, u64),
    ) {
    }

    /// The EL1 virtual timer through the GIC the machine description names (`crate::gic`).
    fn start_timer(hertz: u32, map_device: MapDevice) {
        timer::start(hertz, map_device);
    }

    fn monotonic_nanoseconds() -> u64 {
        timer::monotonic_nanoseconds()
    }

    fn counter_ticks() -> u64 {
        timer::counter_ticks()
    }

    fn enable_interrupts() {
        interrupt::enable();
    }

    fn disable_interrupts() {
        interrupt::disable();
    }

    fn wait_for_interrupt() {
        interrupt::wait_for_interrupt();
    }
}
