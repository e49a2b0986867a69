//! IRQs: masking them, idling until one comes, and handling one.
//!
//! The kernel runs with PSTATE.I set (IRQs masked) except inside [`wait_for_interrupt`] (after its `wfi`);
//! user mode runs with it clear. So an IRQ arrives either from EL0 (vector 9) or while the
//! kernel idles (vector 5), and both come to [`handle`].

// The `msr daifset/daifclr, #imm` forms stay hand-written: they change PSTATE.I in one
// instruction, and these blocks must also be compiler barriers (the handler may change any
// memory), while `aarch64-cpu`'s DAIF access is a read-modify-write marked `nomem`.
use core::arch::asm;

extern "Rust" {
    /// The kernel's timer hook (`kernel_core::user_mode`): may switch threads.
    fn kernel_timer_tick();
    /// The kernel's device-interrupt hook (`kernel_core::interrupt`): masks, never switches.
    fn kernel_device_interrupt(id: u32);
}

/// Unmasks IRQs on this CPU. A pending one is taken at once.
pub fn enable() {
    // SAFETY: unmasking IRQs; the handler saves and restores every register. No `nomem`:
    // the handler may change memory, so this is also a compiler barrier.
    unsafe { asm!("msr daifclr, #2", options(nostack)) };
}

/// Masks IRQs on this CPU.
pub fn disable() {
    // SAFETY: masking IRQs touches no memory; no `nomem` so it orders memory accesses too.
    unsafe { asm!("msr daifset, #2", options(nostack)) };
}

/// Waits for an interrupt, then takes it: `wfi` runs with IRQs still masked (a pending IRQ
/// ends it whatever PSTATE.I says), and only then are IRQs unmasked, long enough (`isb`) for
/// the pending one to be taken and handled, and masked again.
///
/// The order matters. Unmasking first (`daifclr; wfi`) lets an IRQ that became pending
/// while the kernel had them masked — a device interrupt raised during the very system call
/// that blocked its driver — be taken *before* `wfi`: its handler wakes the driver, and
/// `wfi` then sleeps anyway, until the next timer tick (10 ms lost per such wake-up;
/// `irq_latency` showed it). x86's `sti; hlt` is atomic; this is aarch64's equivalent.
pub fn wait_for_interrupt() {
    // SAFETY: as for `enable`: the handler preserves every register, and the timer hook it
    // calls may switch threads and come back; the mask is restored before returning.
    unsafe { asm!("wfi", "msr daifclr, #2", "isb", "msr daifset, #2") };
}

/// Called by the trap dispatcher for every IRQ, with IRQs masked.
///
/// The interrupt is ended (GICC_EOIR) before the kernel's timer hook runs, because the hook
/// may switch to another thread and not come back for a long time: an interrupt still
/// active at the GIC would block every later one of its priority.
pub fn handle() {
    let Some((acknowledged, id)) = crate::gic::acknowledge() else {
        return;
    };
    if id == crate::smp::IPI_SGI {
        crate::gic::end_of_interrupt(acknowledged);
        crate::smp::ipi();
    } else if id == crate::timer::interrupt_id() {
        crate::timer::rearm();
        crate::gic::end_of_interrupt(acknowledged);
        // SAFETY: the kernel defines `kernel_timer_tick` with this signature, as the
        // user-mode contract requires.
        unsafe { kernel_timer_tick() };
    } else {
        if id >= crate::device_interrupts::FIRST_SHARED {
            // SAFETY: the kernel defines `kernel_device_interrupt` with this signature
            // (`kernel_core::interrupt`); it masks the line before the end-of-interrupt below.
            unsafe { kernel_device_interrupt(id) };
        }
        crate::gic::end_of_interrupt(acknowledged);
    }
}
