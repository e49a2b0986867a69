//! aarch64 user-mode specifics: `_start` and the virtual counter.

use crate::cycles::Scale;

/// The process entry point: `x0` holds the argument block's address.
///
/// # Safety
///
/// Only the kernel enters it, once, as the `start` module describes.
#[cfg(target_os = "none")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _start() -> ! {
    // Zero frame pointer and link register end stack walks; `x0` passes through.
    core::arch::naked_asm!(
        "mov x29, xzr",
        "mov x30, xzr",
        "bl {start}",
        "brk #1",
        start = sym crate::start::bare_metal::start
    )
}

/// CNTVCT_EL0, after earlier instructions finish.
pub fn counter_now() -> u64 {
    let count: u64;
    // SAFETY: the kernel lets EL0 read CNTVCT_EL0 (CNTKCTL_EL1.EL0VCTEN); the read has no side
    // effects. The block is not marked `nomem`, so the compiler treats it as a barrier for
    // memory accesses.
    unsafe { core::arch::asm!("isb", "mrs {}, cntvct_el0", out(reg) count, options(nostack)) };
    count
}

/// One step of a spin-wait: `yield`, not the `isb` `core::hint::spin_loop` emits on
/// aarch64. Under QEMU's round-robin TCG (one host thread for every CPU, as with `-icount`)
/// `yield` ends this CPU's turn, so the CPU the spinner waits for runs at once instead of
/// after a whole time slice.
pub fn spin_hint() {
    // SAFETY: a hint instruction; no memory or register is touched.
    unsafe { core::arch::asm!("yield", options(nomem, nostack, preserves_flags)) };
}

/// A loop of exactly `2 * iterations` instructions (`subs` and `b.ne` per iteration).
#[inline(never)]
pub fn spin_instructions(iterations: u64) {
    // SAFETY: register arithmetic and a local branch; no memory, no stack.
    unsafe {
        core::arch::asm!(
            "2:",
            "subs {n}, {n}, #1",
            "b.ne 2b",
            n = inout(reg) iterations => _,
            options(nomem, nostack)
        );
    }
}

/// Counter ticks scaled to a nominal CPU clock (reads CNTFRQ_EL0, which EL0 may read while
/// it may read the counter).
pub fn counter_scale() -> Scale {
    let hertz: u64;
    // SAFETY: reading CNTFRQ_EL0 has no side effects and touches no memory; EL0 may read it
    // because CNTKCTL_EL1.EL0VCTEN is set.
    unsafe { core::arch::asm!("mrs {}, cntfrq_el0", out(reg) hertz, options(nomem, nostack)) };
    Scale::for_frequency("cntvct", hertz)
}

/// Orders this CPU's earlier writes to DMA memory before its later writes, device
/// registers included, as the device sees them (`dmb oshst`: the outer-shareable domain,
/// where devices observe; Linux's `dma_wmb`).
pub fn dma_write_barrier() {
    // SAFETY: a barrier instruction; it touches no memory and changes no register. Not
    // `nomem`, so the compiler keeps memory accesses on their side of it too.
    unsafe { core::arch::asm!("dmb oshst", options(nostack, preserves_flags)) };
}

/// Orders this CPU's earlier reads (e.g. a completion's flag the device wrote) before its
/// later reads of DMA memory (`dmb oshld`; Linux's `dma_rmb`).
pub fn dma_read_barrier() {
    // SAFETY: as in `dma_write_barrier`.
    unsafe { core::arch::asm!("dmb oshld", options(nostack, preserves_flags)) };
}
