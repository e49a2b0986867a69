//! The generic timer: the EL1 virtual timer as the periodic tick, the virtual counter as
//! the clock.
//!
//! The tick is CNTV_TVAL_EL0 loaded with `CNTFRQ_EL0 / hertz` counts and re-loaded on every
//! interrupt, so a tick handled late delays the following ones (no catch-up storm after a
//! long stretch with interrupts masked). It reaches the CPU as the private peripheral
//! interrupt the device tree's `arm,armv8-timer` names ([`set_interrupt`]; QEMU `virt`: 27)
//! through the GIC. The registers are reached through `aarch64-cpu`.
//!
//! User mode may read the virtual counter and its frequency (CNTVCT_EL0, CNTFRQ_EL0), so a
//! program can time short stretches in counter ticks without a system call (what x86_64's
//! `rdtsc` gives it); CNTKCTL_EL1 = EL0VCTEN alone. Everything else stays closed: the
//! physical counter, and every timer's registers (the kernel's tick is the virtual timer, and
//! a user write to it would stall the scheduler). Wall-clock time is still the kernel's
//! `clock_gettime`.

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{
    Readable, Writeable, CNTFRQ_EL0, CNTKCTL_EL1, CNTVCT_EL0, CNTV_CTL_EL0, CNTV_TVAL_EL0,
};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel_core::user_mode::MapDevice;

/// QEMU `virt`'s virtual timer interrupt: PPI 11, interrupt id 16 + 11 = 27 (the fallback
/// when the device tree has no `arm,armv8-timer` node).
pub const DEFAULT_INTERRUPT_ID: u32 = 27;
/// The timer's GIC priority: middling, well below the priority mask.
const PRIORITY: u8 = 0xa0;
const NANOSECONDS_PER_SECOND: u128 = 1_000_000_000;

/// The timer's GIC interrupt id.
static INTERRUPT_ID: AtomicU32 = AtomicU32::new(DEFAULT_INTERRUPT_ID);

/// Uses `id` as the timer's interrupt (call before [`start`]).
pub fn set_interrupt(id: u32) {
    INTERRUPT_ID.store(id, Ordering::Relaxed);
}

/// The timer's GIC interrupt id.
pub fn interrupt_id() -> u32 {
    INTERRUPT_ID.load(Ordering::Relaxed)
}

/// Counter ticks between timer interrupts; 0 until [`start`].
static INTERVAL: AtomicU64 = AtomicU64::new(0);

/// The counter frequency in hertz (CNTFRQ_EL0, set by firmware or QEMU).
pub fn counter_frequency() -> u64 {
    CNTFRQ_EL0.get()
}

/// Sets up the GIC and starts the virtual timer at `hertz` interrupts per second (at least
/// one counter tick apart).
pub fn start(hertz: u32, map_device: MapDevice) {
    crate::gic::init(map_device);
    crate::smp::enable_ipi();
    crate::gic::enable(interrupt_id(), PRIORITY);
    let interval = (counter_frequency() / u64::from(hertz.max(1))).max(1);
    INTERVAL.store(interval, Ordering::Relaxed);
    // EL0 may read CNTVCT_EL0 (and CNTFRQ_EL0); EL0PCTEN, EL0VTEN and EL0PTEN stay clear, so
    // the physical counter and the timers are kernel-only.
    CNTKCTL_EL1.write(CNTKCTL_EL1::EL0VCTEN::SET);
    CNTV_TVAL_EL0.set(interval);
    // Running, interrupt not masked. The interrupt is handled by `crate::interrupt` once
    // interrupts are unmasked.
    CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::SET + CNTV_CTL_EL0::IMASK::CLEAR);
    barrier::isb(barrier::SY);
}

/// Loads the next interval, which also clears the pending timer condition.
pub fn rearm() {
    CNTV_TVAL_EL0.set(INTERVAL.load(Ordering::Relaxed));
    barrier::isb(barrier::SY);
}

/// Nanoseconds counted by the virtual counter since it started (machine reset; the boot
/// code sets no virtual offset).
pub fn monotonic_nanoseconds() -> u64 {
    // The `isb` keeps the counter read from being taken early.
    barrier::isb(barrier::SY);
    nanoseconds(CNTVCT_EL0.get(), counter_frequency())
}

/// The virtual counter's raw value (CNTVCT_EL0, the one user programs read).
pub fn counter_ticks() -> u64 {
    barrier::isb(barrier::SY);
    CNTVCT_EL0.get()
}

/// `count` counter ticks at `frequency` hertz, in nanoseconds, without overflow.
fn nanoseconds(count: u64, frequency: u64) -> u64 {
    let value = u128::from(count) * NANOSECONDS_PER_SECOND / u128::from(frequency.max(1));
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// Starts a secondary CPU's virtual timer (its private interrupt enabled in its own GIC
/// interface) at the boot CPU's rate.
pub fn start_secondary() {
    crate::gic::enable(interrupt_id(), PRIORITY);
    CNTKCTL_EL1.write(CNTKCTL_EL1::EL0VCTEN::SET);
    CNTV_TVAL_EL0.set(INTERVAL.load(Ordering::Relaxed));
    CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::SET + CNTV_CTL_EL0::IMASK::CLEAR);
    barrier::isb(barrier::SY);
}
