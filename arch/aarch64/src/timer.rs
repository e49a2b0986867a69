//! The generic timer: the EL1 virtual timer as the periodic tick, the virtual counter as
//! the clock.
//!
//! The tick is CNTV_TVAL_EL0 loaded with `CNTFRQ_EL0 / hertz` counts and re-loaded on every
//! interrupt, so a tick handled late delays the following ones (no catch-up storm after a
//! long stretch with interrupts masked). It reaches the CPU as private peripheral interrupt
//! 27 through the GIC.
//!
//! User mode may read the virtual counter and its frequency (CNTVCT_EL0, CNTFRQ_EL0), so a
//! program can time short stretches in counter ticks without a system call (what x86_64's
//! `rdtsc` gives it); CNTKCTL_EL1 = EL0VCTEN alone. Everything else stays closed: the
//! physical counter, and every timer's registers (the kernel's tick is the virtual timer, and
//! a user write to it would stall the scheduler). Wall-clock time is still the kernel's
//! `clock_gettime`.

use core::arch::asm;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel_core::user_mode::MapDevice;

/// QEMU `virt`'s virtual timer interrupt: PPI 11, interrupt id 16 + 11 = 27 (the fallback
/// when the device tree has no `arm,armv8-timer` node).
pub const DEFAULT_INTERRUPT_ID: u32 = 27;
/// The timer's GIC priority: middling, well below the priority mask.
const PRIORITY: u8 = 0xa0;
/// CNTV_CTL_EL0.ENABLE with IMASK clear: the timer runs and raises its interrupt.
const CONTROL_ENABLE: u64 = 1;
/// CNTKCTL_EL1.EL0VCTEN: EL0 may read CNTVCT_EL0 (and CNTFRQ_EL0); EL0PCTEN, EL0VTEN and
/// EL0PTEN stay clear, so the physical counter and the timers are kernel-only.
const USER_READS_VIRTUAL_COUNTER: u64 = 1 << 1;
const NANOSECONDS_PER_SECOND: u128 = 1_000_000_000;

/// Counter ticks between timer interrupts; 0 until [`start`].
static INTERVAL: AtomicU64 = AtomicU64::new(0);

/// The counter frequency in hertz (CNTFRQ_EL0, set by firmware or QEMU).
pub fn counter_frequency() -> u64 {
    let frequency: u64;
    // SAFETY: reading CNTFRQ_EL0 has no side effects.
    unsafe { asm!("mrs {}, cntfrq_el0", out(reg) frequency, options(nomem, nostack)) };
    frequency
}

/// Sets up the GIC and starts the virtual timer at `hertz` interrupts per second (at least
/// one counter tick apart).
pub fn start(hertz: u32, map_device: MapDevice) {
    crate::gic::init(map_device);
    crate::gic::enable(DEFAULT_INTERRUPT_ID, PRIORITY);
    let interval = (counter_frequency() / u64::from(hertz.max(1))).max(1);
    INTERVAL.store(interval, Ordering::Relaxed);
    // SAFETY: programs only the EL1 virtual timer and EL0's access to the counters (read the
    // virtual count, nothing else); the interrupt it raises is handled by `crate::interrupt`
    // once interrupts are unmasked.
    unsafe {
        asm!(
            "msr cntkctl_el1, {user_access}",
            "msr cntv_tval_el0, {interval}",
            "msr cntv_ctl_el0, {enable}",
            "isb",
            user_access = in(reg) USER_READS_VIRTUAL_COUNTER,
            interval = in(reg) interval,
            enable = in(reg) CONTROL_ENABLE,
            options(nomem, nostack)
        )
    };
}

/// Loads the next interval, which also clears the pending timer condition.
pub fn rearm() {
    let interval = INTERVAL.load(Ordering::Relaxed);
    // SAFETY: writing CNTV_TVAL_EL0 only reprograms the virtual timer.
    unsafe { asm!("msr cntv_tval_el0, {}", "isb", in(reg) interval, options(nomem, nostack)) };
}

/// Nanoseconds counted by the virtual counter since it started (machine reset; the boot
/// code sets no virtual offset).
pub fn monotonic_nanoseconds() -> u64 {
    let count: u64;
    // SAFETY: reading CNTVCT_EL0 has no side effects; the `isb` keeps the read from being
    // taken early.
    unsafe { asm!("isb", "mrs {}, cntvct_el0", out(reg) count, options(nomem, nostack)) };
    nanoseconds(count, counter_frequency())
}

/// `count` counter ticks at `frequency` hertz, in nanoseconds, without overflow.
fn nanoseconds(count: u64, frequency: u64) -> u64 {
    let value = u128::from(count) * NANOSECONDS_PER_SECOND / u128::from(frequency.max(1));
    u64::try_from(value).unwrap_or(u64::MAX)
}
