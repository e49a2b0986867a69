//! Time system calls: `clock_gettime`, `nanosleep`.

use super::user_memory::{self, UserSlice};
use super::Outcome;
use crate::arch::Cpu;
use kernel_core::user_mode::UserMode;
use kernel_core::Error;
use redox_syscall::data::TimeSpec;
use redox_syscall::flag::{CLOCK_MONOTONIC, CLOCK_REALTIME};

fn time_spec(nanoseconds: u64) -> TimeSpec {
    TimeSpec {
        tv_sec: (nanoseconds / 1_000_000_000) as i64,
        tv_nsec: (nanoseconds % 1_000_000_000) as i32,
    }
}

/// `clock_gettime(clock, time)`. Without a real-time clock, `CLOCK_REALTIME` is time since
/// boot too.
pub fn clock_get_time(clock: usize, time: usize) -> Outcome {
    if clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC {
        return Err(Error::InvalidArgument);
    }
    user_memory::write(time, time_spec(Cpu::monotonic_nanoseconds()))?;
    Ok(0)
}

/// `nanosleep(request, remaining)`: sleeps at least the requested time.
pub fn sleep(request: usize, remaining: usize) -> Outcome {
    let request: TimeSpec = user_memory::read(request)?;
    if request.tv_sec < 0 || !(0..1_000_000_000).contains(&request.tv_nsec) {
        return Err(Error::InvalidArgument);
    }
    if remaining != 0 {
        UserSlice::of::<TimeSpec>(remaining)?.check_writable()?;
    }
    let duration = (request.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(request.tv_nsec as u64);
    let deadline = Cpu::monotonic_nanoseconds().saturating_add(duration);
    crate::process::sleep_until(deadline);
    if remaining != 0 {
        user_memory::write(remaining, time_spec(0))?;
    }
    Ok(0)
}
