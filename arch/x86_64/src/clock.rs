//! The monotonic clock: the TSC when CPUID calls it invariant, the LAPIC timer otherwise.
//!
//! The time-stamp counter is the best clock x86 has, but only an *invariant* TSC
//! (CPUID.80000007H:EDX bit 8) ticks at one rate whatever the core's frequency and power
//! state. On CPUs without that promise the TSC may slow down, stop in deep sleep states or
//! differ between cores, so it is not used as a clock.
//!
//! The fallback is the LAPIC timer, which the scheduling tick already runs periodically from
//! a constant clock: time is (ticks handled + a tick requested but not yet handled) × the
//! period, plus how far the current period has counted down. Its resolution is one timer count
//! (16 bus clocks, 256 ns at QEMU's 62.5 MHz). Its limit: the kernel runs with interrupts
//! off, so if it keeps them off for more than one whole tick period (10 ms), the ticks that
//! expire meanwhile collapse into one pending interrupt and that time is lost — the clock then
//! runs slow, never backwards (every reading is also clamped to the previous one). QEMU's TCG
//! does not report an invariant TSC, so the test suites run on this fallback; KVM with
//! `-cpu host` on a modern host reports one.

use crate::apic::{self, register, TIMER_VECTOR};
use core::arch::x86_64::{__cpuid, _rdtsc};
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

/// CPUID.80000007H:EDX bit 8: the TSC runs at a constant rate in every state.
const CPUID_INVARIANT_TSC: u32 = 1 << 8;

/// Which clock [`nanoseconds`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Source {
    /// The invariant time-stamp counter.
    TimeStampCounter = 1,
    /// The LAPIC timer's ticks and count.
    ApicTimer = 2,
}

/// The [`Source`] as its number, 0 before [`start`] (the clock then reads 0).
static SOURCE: AtomicU8 = AtomicU8::new(0);
/// Nanoseconds per TSC tick, or per LAPIC timer count, as a 32.32 fixed-point number.
static NANOSECONDS_PER_UNIT: AtomicU64 = AtomicU64::new(0);
/// The LAPIC timer's initial count: counts per tick period.
static PERIOD_COUNTS: AtomicU64 = AtomicU64::new(0);
/// Timer interrupts handled since the tick started.
static TICKS: AtomicU64 = AtomicU64::new(0);
/// The latest LAPIC-based reading, so no reading goes backwards.
static LATEST: AtomicU64 = AtomicU64::new(0);

/// Whether CPUID says the TSC is invariant.
pub fn time_stamp_counter_is_invariant() -> bool {
    // Leaf 0x80000000 exists on every x86_64 CPU and gives the highest extended leaf.
    let highest = __cpuid(0x8000_0000).eax;
    highest >= 0x8000_0007 && __cpuid(0x8000_0007).edx & CPUID_INVARIANT_TSC != 0
}

/// Starts the clock from the calibrated rates: the TSC if it is invariant, else the LAPIC
/// timer, whose periodic tick of `period_counts` the caller has just started. Returns the
/// source chosen.
pub fn start(time_stamp_hertz: u64, apic_timer_hertz: u64, period_counts: u64) -> Source {
    let per_second = |hertz: u64| ((1_000_000_000u128 << 32) / u128::from(hertz.max(1))) as u64;
    let source = if time_stamp_counter_is_invariant() {
        NANOSECONDS_PER_UNIT.store(per_second(time_stamp_hertz), Ordering::Relaxed);
        Source::TimeStampCounter
    } else {
        NANOSECONDS_PER_UNIT.store(per_second(apic_timer_hertz), Ordering::Relaxed);
        PERIOD_COUNTS.store(period_counts, Ordering::Relaxed);
        Source::ApicTimer
    };
    SOURCE.store(source as u8, Ordering::Release);
    source
}

/// Counts one handled timer interrupt (called by the trap handler).
pub fn tick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

/// Nanoseconds since the clock's zero (TSC: CPU reset; LAPIC timer: when the tick started),
/// or 0 before [`start`].
pub fn nanoseconds() -> u64 {
    let per_unit = u128::from(NANOSECONDS_PER_UNIT.load(Ordering::Relaxed));
    let units = match SOURCE.load(Ordering::Acquire) {
        1 => time_stamp(),
        2 => apic_timer_counts(),
        _ => return 0,
    };
    let now = ((u128::from(units) * per_unit) >> 32) as u64;
    if SOURCE.load(Ordering::Relaxed) == 2 {
        return LATEST.fetch_max(now, Ordering::Relaxed).max(now);
    }
    now
}

/// Reads the TSC.
pub fn time_stamp() -> u64 {
    // SAFETY: `rdtsc` reads a counter; CR4.TSD is clear, and it touches no memory.
    unsafe { _rdtsc() }
}

/// LAPIC timer counts since the tick started.
fn apic_timer_counts() -> u64 {
    let period = PERIOD_COUNTS.load(Ordering::Relaxed);
    loop {
        let ticks = TICKS.load(Ordering::Relaxed);
        let first = u64::from(apic::read(register::CURRENT_COUNT));
        let pending = apic::is_pending(TIMER_VECTOR as u8);
        let second = u64::from(apic::read(register::CURRENT_COUNT));
        // A reload between the two reads (the count jumps back up) or a handled interrupt
        // would make `pending` disagree with `second`: read again.
        if second > first || TICKS.load(Ordering::Relaxed) != ticks {
            continue;
        }
        let periods = ticks + u64::from(pending);
        return periods * period + period.saturating_sub(second);
    }
}
