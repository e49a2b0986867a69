//! A measurement's summary: median and 99th percentile of its samples, in cycles.

use alloc::string::String;
use core::fmt::Write;
use userlib::cycles::Scale;

/// What one measurement found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// The median sample, in cycles (the mean of the two middle samples for an even count).
    pub median_cycles: f64,
    /// The 99th percentile (nearest rank: the smallest sample at least 99% of samples do
    /// not exceed), in cycles.
    pub p99_cycles: f64,
    /// How many samples.
    pub iterations: u64,
}

impl Summary {
    /// Summarises `ticks` (counter ticks per iteration; sorted in place) with `scale`;
    /// `None` when there are no samples.
    pub fn from_ticks(ticks: &mut [u64], scale: &Scale) -> Option<Self> {
        if ticks.is_empty() {
            return None;
        }
        ticks.sort_unstable();
        let count = ticks.len();
        let middle = count / 2;
        let median = if count % 2 == 1 {
            scale.cycles(ticks[middle])
        } else {
            (scale.cycles(ticks[middle - 1]) + scale.cycles(ticks[middle])) / 2.0
        };
        // Nearest rank: ceil(0.99 * count), 1-based.
        let rank = (count * 99).div_ceil(100).max(1);
        Some(Self {
            median_cycles: median,
            p99_cycles: scale.cycles(ticks[rank - 1]),
            iterations: count as u64,
        })
    }

    /// The result line for measurement `name`:
    /// `bench NAME median_cycles=X p99_cycles=Y iterations=N`.
    pub fn line(&self, name: &str) -> String {
        let mut line = String::new();
        let _ = write!(
            line,
            "bench {name} median_cycles={:.1} p99_cycles={:.1} iterations={}",
            self.median_cycles, self.p99_cycles, self.iterations
        );
        line
    }
}

/// The line that states the counter and how ticks became cycles.
pub fn clock_line(scale: &Scale) -> String {
    let mut line = String::new();
    let _ = write!(line, "bench-clock counter={}", scale.counter);
    if let Some(hertz) = scale.counter_hertz {
        let _ = write!(
            line,
            " counter_hz={hertz} nominal_cpu_hz={}",
            userlib::cycles::NOMINAL_CPU_HERTZ
        );
    }
    let _ = write!(line, " cycles_per_tick={}", scale.cycles_per_tick);
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_nearest_rank_p99() {
        let tsc = Scale::one_to_one("tsc");
        let mut odd = [5, 1, 3];
        let summary = Summary::from_ticks(&mut odd, &tsc).unwrap();
        assert_eq!((summary.median_cycles, summary.p99_cycles), (3.0, 5.0));
        let mut even = [4, 1, 3, 2];
        assert_eq!(
            Summary::from_ticks(&mut even, &tsc).unwrap().median_cycles,
            2.5
        );
        let mut hundred: Vec<u64> = (1..=100).rev().collect();
        let summary = Summary::from_ticks(&mut hundred, &tsc).unwrap();
        assert_eq!((summary.p99_cycles, summary.iterations), (99.0, 100));
        let mut thousand: Vec<u64> = (1..=1000).collect();
        assert_eq!(
            Summary::from_ticks(&mut thousand, &tsc).unwrap().p99_cycles,
            990.0
        );
        assert!(Summary::from_ticks(&mut [], &tsc).is_none());
    }

    #[test]
    fn scales_and_formats() {
        let counter = Scale::for_frequency("cntvct", 62_500_000);
        let summary = Summary::from_ticks(&mut [10, 10, 20], &counter).unwrap();
        assert_eq!(
            summary.line("null_call"),
            "bench null_call median_cycles=320.0 p99_cycles=640.0 iterations=3"
        );
        assert_eq!(
            clock_line(&counter),
            "bench-clock counter=cntvct counter_hz=62500000 nominal_cpu_hz=2000000000 cycles_per_tick=32"
        );
        assert_eq!(
            clock_line(&Scale::one_to_one("tsc")),
            "bench-clock counter=tsc cycles_per_tick=1"
        );
    }
}
