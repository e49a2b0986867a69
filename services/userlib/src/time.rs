//! The monotonic clock and sleeping, as `Duration`s.

use core::time::Duration;
use syscall::flag::CLOCK_MONOTONIC;
use syscall::{Result, TimeSpec};

/// Time since boot from the kernel's monotonic clock.
///
/// # Errors
///
/// Whatever `clock_gettime` reports (none expected for `CLOCK_MONOTONIC`).
pub fn monotonic() -> Result<Duration> {
    let mut now = TimeSpec::default();
    syscall::clock_gettime(CLOCK_MONOTONIC, &mut now)?;
    Ok(from_time_spec(&now))
}

/// Sleeps for at least `duration` (`nanosleep`).
///
/// # Errors
///
/// Whatever `nanosleep` reports.
pub fn sleep(duration: Duration) -> Result<()> {
    let request = to_time_spec(duration);
    let mut remaining = TimeSpec::default();
    syscall::nanosleep(&request, &mut remaining)?;
    Ok(())
}

/// A `TimeSpec` as a `Duration`; negative parts count as zero.
pub fn from_time_spec(time: &TimeSpec) -> Duration {
    let seconds = u64::try_from(time.tv_sec).unwrap_or(0);
    let nanoseconds = u32::try_from(time.tv_nsec).unwrap_or(0);
    Duration::from_secs(seconds) + Duration::from_nanos(u64::from(nanoseconds))
}

/// A `Duration` as a `TimeSpec`, saturating past `i64::MAX` seconds.
pub fn to_time_spec(duration: Duration) -> TimeSpec {
    TimeSpec {
        tv_sec: i64::try_from(duration.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: duration.subsec_nanos() as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_both_ways() {
        let duration = Duration::new(3, 250_000_000);
        let time = to_time_spec(duration);
        assert_eq!((time.tv_sec, time.tv_nsec), (3, 250_000_000));
        assert_eq!(from_time_spec(&time), duration);
        let negative = TimeSpec {
            tv_sec: -1,
            tv_nsec: -5,
        };
        assert_eq!(from_time_spec(&negative), Duration::ZERO);
    }
}
