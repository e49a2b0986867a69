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

/// Counter ticks scaled to a nominal CPU clock (reads CNTFRQ_EL0, which EL0 may read while
/// it may read the counter).
pub fn counter_scale() -> Scale {
    let hertz: u64;
    // SAFETY: reading CNTFRQ_EL0 has no side effects and touches no memory; EL0 may read it
    // because CNTKCTL_EL1.EL0VCTEN is set.
    unsafe { core::arch::asm!("mrs {}, cntfrq_el0", out(reg) hertz, options(nomem, nostack)) };
    Scale::for_frequency("cntvct", hertz)
}
