//! The CPU's cycle counter, read from user mode without a system call, for timing short code.
//!
//! - **x86_64**: the time-stamp counter (`rdtsc`; the kernel keeps CR4.TSD clear). On the
//!   CPUs QEMU runs on it ticks at a constant rate near the nominal clock, so one tick counts as
//!   one cycle.
//! - **aarch64**: the virtual counter CNTVCT_EL0 (the kernel sets CNTKCTL_EL1.EL0VCTEN). It
//!   ticks at CNTFRQ_EL0 (62.5 MHz on QEMU `virt`), not at the CPU clock, so ticks are scaled
//!   to cycles of a stated nominal CPU clock, [`NOMINAL_CPU_HERTZ`]: one tick is
//!   `NOMINAL_CPU_HERTZ / CNTFRQ_EL0` cycles (32 on QEMU). The resolution is one tick.
//!
//! [`now`] is in counter ticks; [`Scale::cycles`] turns ticks into cycles.

/// The CPU clock aarch64's counter ticks are scaled to: 2 GHz.
pub const NOMINAL_CPU_HERTZ: u64 = 2_000_000_000;

/// How counter ticks become cycles on this CPU.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    /// The counter's name: `tsc` or `cntvct`.
    pub counter: &'static str,
    /// The counter's frequency in hertz, when the CPU states it (CNTFRQ_EL0); `None` for the
    /// TSC.
    pub counter_hertz: Option<u64>,
    /// Cycles per counter tick.
    pub cycles_per_tick: f64,
}

impl Scale {
    /// The scale for a counter ticking at `counter_hertz` read against a CPU clock of
    /// [`NOMINAL_CPU_HERTZ`] (a frequency of 0 counts as 1 Hz).
    pub fn for_frequency(counter: &'static str, counter_hertz: u64) -> Self {
        Self {
            counter,
            counter_hertz: Some(counter_hertz),
            cycles_per_tick: NOMINAL_CPU_HERTZ as f64 / counter_hertz.max(1) as f64,
        }
    }

    /// A counter that counts cycles itself.
    pub fn one_to_one(counter: &'static str) -> Self {
        Self {
            counter,
            counter_hertz: None,
            cycles_per_tick: 1.0,
        }
    }

    /// `ticks` counter ticks in cycles.
    pub fn cycles(&self, ticks: u64) -> f64 {
        ticks as f64 * self.cycles_per_tick
    }
}

/// The counter now, in ticks. Earlier instructions finish first (`lfence` / `isb`), and the
/// compiler moves no memory access across the read, so the code between two readings is
/// what they time.
pub fn now() -> u64 {
    crate::arch::counter_now()
}

/// Runs a loop of exactly `2 * iterations` instructions (a decrement and a conditional
/// branch per iteration; `iterations` must not be 0), whatever the compiler does around it: a known instruction count
/// to calibrate the counter against.
pub fn spin_instructions(iterations: u64) {
    crate::arch::spin_instructions(iterations)
}

/// How this CPU's counter ticks become cycles.
pub fn scale() -> Scale {
    crate::arch::counter_scale()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_ticks_to_nominal_cycles() {
        let qemu = Scale::for_frequency("cntvct", 62_500_000);
        assert_eq!(qemu.cycles_per_tick, 32.0);
        assert_eq!(qemu.cycles(3), 96.0);
        assert_eq!(Scale::one_to_one("tsc").cycles(1234), 1234.0);
        assert_eq!(
            Scale::for_frequency("cntvct", 0).cycles_per_tick,
            NOMINAL_CPU_HERTZ as f64
        );
    }
}
