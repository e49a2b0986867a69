//! The periodic tick (LAPIC timer) and the rates the monotonic clock ([`crate::clock`]: the
//! TSC if invariant, else the LAPIC timer) runs on, both calibrated against the PIT.
//!
//! Calibration: PIT channel 2 counts down 11 932 ticks of its fixed 1.193182 MHz clock
//! (10 ms) in mode 0 with its gate opened through port 0x61; the CPU polls port 0x61 bit 5
//! (channel 2's output), which rises when the count runs out. Over that window the TSC and the
//! LAPIC timer (divide by 16, one-shot, masked, counting down from 2^32 - 1) are read, giving
//! both their rates per second. A 1 ms pass runs first and is discarded: under TCG it absorbs
//! QEMU translating this code (measured: a fixed ~0.25 ms, which skewed a single 10 ms pass
//! by 2.7%; with the warm-up both rates land within 0.3% of the host TSC and QEMU's 62.5 MHz
//! LAPIC timer). The LAPIC timer is then set periodic at the requested rate on
//! [`crate::apic::TIMER_VECTOR`], and [`crate::clock`] picks its source. The APIC mode
//! (x2APIC or xAPIC) and the clock source are logged.
//!
//! This works under TCG and KVM alike because the PIT is always emulated against the host's
//! clock, and the TSC and LAPIC timer advance in host time in both (TCG derives the TSC from
//! the host's clock; KVM runs the real, possibly offset, TSC). The answer is as good as the
//! polling: each port read is an exit to QEMU, a few microseconds, well under 0.1% of 10 ms.

use crate::apic::{self, register, DIVIDE_BY_16, LVT_MASKED, LVT_PERIODIC, TIMER_VECTOR};
use crate::clock::{self, time_stamp as read_time_stamp};
use crate::port;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel_core::user_mode::MapDevice;

/// The PIT's input clock, in hertz.
const PIT_HERTZ: u64 = 1_193_182;
/// PIT ticks in the calibration window (10 ms, rounded up).
const CALIBRATION_TICKS: u64 = PIT_HERTZ.div_ceil(100);
/// PIT ticks in the warm-up pass (1 ms).
const WARM_UP_TICKS: u64 = PIT_HERTZ.div_ceil(1000);
/// Port 0x61 bit 0: PIT channel 2's gate. Bit 1: the speaker (kept off). Bit 5: channel 2's
/// output.
const GATE: u8 = 1 << 0;
const SPEAKER: u8 = 1 << 1;
const CHANNEL_2_OUTPUT: u8 = 1 << 5;
/// Polls of port 0x61 before concluding there is no PIT (far more than 10 ms of them).
const POLL_LIMIT: u32 = 50_000_000;

/// What one calibration measured.
#[derive(Clone, Copy, Debug)]
pub struct Rates {
    /// TSC ticks per second.
    pub time_stamp_hertz: u64,
    /// LAPIC timer counts per second at divide-by-16.
    pub apic_timer_hertz: u64,
}

/// The last calibration, for the boot log (0s before [`start`]).
static TIME_STAMP_HERTZ: AtomicU64 = AtomicU64::new(0);
static APIC_TIMER_HERTZ: AtomicU64 = AtomicU64::new(0);
/// The periodic count the boot CPU chose, reused by every other CPU's timer.
static PERIOD_COUNT: AtomicU64 = AtomicU64::new(0);

/// Starts a secondary CPU's periodic tick at the boot CPU's calibrated rate.
pub fn start_secondary() {
    apic::write(register::DIVIDE, DIVIDE_BY_16);
    apic::write(register::TIMER, LVT_PERIODIC | TIMER_VECTOR as u32);
    apic::write(
        register::INITIAL_COUNT,
        PERIOD_COUNT.load(Ordering::Relaxed) as u32,
    );
}

/// Enables the local APIC, calibrates, and starts the periodic tick at `hertz`.
///
/// # Panics
/// If `hertz` is 0, or the PIT's output never rises (no PIT: the machine is not a PC).
pub fn start(hertz: u32, map_device: MapDevice) {
    assert!(hertz > 0, "a timer at 0 Hz");
    let use_x2apic = apic::cpu_has_x2apic();
    // SAFETY: the kernel starts the timer once, with interrupts disabled, and its
    // `map_device` maps device memory (the `UserMode::start_timer` contract); x2APIC only
    // when CPUID offers it.
    let mode = unsafe { apic::enable(map_device, use_x2apic) };
    log::info!(
        "local APIC in {} mode (CPUID x2APIC: {})",
        match mode {
            apic::Mode::X2apic => "x2APIC (MSR)",
            _ => "xAPIC (memory-mapped)",
        },
        if use_x2apic { "offered" } else { "not offered" }
    );
    // The first pass only warms up: under TCG it is when QEMU translates this code, which
    // takes a fixed few hundred microseconds between reading the TSC and starting the PIT.
    let _ = calibrate(WARM_UP_TICKS);
    let rates = calibrate(CALIBRATION_TICKS);
    TIME_STAMP_HERTZ.store(rates.time_stamp_hertz, Ordering::Relaxed);
    APIC_TIMER_HERTZ.store(rates.apic_timer_hertz, Ordering::Relaxed);
    let count = (rates.apic_timer_hertz / u64::from(hertz)).clamp(1, u64::from(u32::MAX));
    PERIOD_COUNT.store(count, Ordering::Relaxed);
    apic::write(register::DIVIDE, DIVIDE_BY_16);
    apic::write(register::TIMER, LVT_PERIODIC | TIMER_VECTOR as u32);
    apic::write(register::INITIAL_COUNT, count as u32);
    let source = clock::start(rates.time_stamp_hertz, rates.apic_timer_hertz, count);
    log::info!(
        "clock: {}",
        match source {
            clock::Source::TimeStampCounter => "invariant TSC (CPUID.80000007H:EDX[8])",
            _ => "LAPIC timer ticks (the TSC is not invariant: CPUID.80000007H:EDX[8] clear)",
        }
    );
}

/// The rates the last [`start`] measured (zeros before it).
pub fn rates() -> Rates {
    Rates {
        time_stamp_hertz: TIME_STAMP_HERTZ.load(Ordering::Relaxed),
        apic_timer_hertz: APIC_TIMER_HERTZ.load(Ordering::Relaxed),
    }
}

/// Nanoseconds on the monotonic clock ([`crate::clock`]), or 0 before calibration.
pub fn monotonic_nanoseconds() -> u64 {
    clock::nanoseconds()
}

/// Measures the TSC and LAPIC timer over `pit_ticks` (at most 65 535) of the PIT.
fn calibrate(pit_ticks: u64) -> Rates {
    apic::write(register::DIVIDE, DIVIDE_BY_16);
    apic::write(register::TIMER, LVT_MASKED | TIMER_VECTOR as u32);
    // SAFETY: port 0x61 and PIT channel 2 (ports 0x42, 0x43) belong to the timer driver,
    // which is this module; channel 0 (the legacy tick) and the 8259s are left alone.
    let (time_stamp_ticks, apic_ticks) = unsafe {
        let control = port::read_u8(0x61);
        port::write_u8(0x61, (control & !SPEAKER) | GATE);
        // Channel 2, low byte then high byte, mode 0 (interrupt on terminal count), binary.
        port::write_u8(0x43, 0b1011_0000);
        port::write_u8(0x42, pit_ticks as u8);
        apic::write(register::INITIAL_COUNT, u32::MAX);
        let time_stamp_start = read_time_stamp();
        // Writing the high byte starts the count.
        port::write_u8(0x42, (pit_ticks >> 8) as u8);
        let mut polls = 0;
        while port::read_u8(0x61) & CHANNEL_2_OUTPUT == 0 {
            polls += 1;
            assert!(polls < POLL_LIMIT, "PIT channel 2 never finished counting");
        }
        let apic_end = apic::read(register::CURRENT_COUNT);
        let time_stamp_end = read_time_stamp();
        port::write_u8(0x61, control & !(SPEAKER | GATE));
        (
            time_stamp_end - time_stamp_start,
            u64::from(u32::MAX - apic_end),
        )
    };
    apic::write(register::INITIAL_COUNT, 0);
    Rates {
        time_stamp_hertz: time_stamp_ticks * PIT_HERTZ / pit_ticks,
        apic_timer_hertz: apic_ticks * PIT_HERTZ / pit_ticks,
    }
}
