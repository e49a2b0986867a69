//! Scheduling: CPU-bound processes are preempted, and sleepers wake on time beside them.

use alloc::format;
use core::time::Duration;
use process_tests::check::{expect_ending, expect_ok, Outcome};
use process_tests::{child, ensure};
use userlib::sys::Ending;
use userlib::time;

/// How long each spinner runs.
const SPIN_MILLISECONDS: &str = "800";
/// How long the sleeper sleeps.
const SLEEP_MILLISECONDS: &str = "100";
/// The sleeper must be reaped this soon after the start, though the spinners never yield.
const SLEEPER_DEADLINE: Duration = Duration::from_millis(1000);
/// Everything must be over this soon after the start.
const DEADLINE: Duration = Duration::from_millis(3000);

/// A sleeper started before two spinners that never yield wakes after 100 ms and is reaped
/// well before the spinners end, and both spinners finish in time.
///
/// Without preemption the sleeper could not run again (nor this process reap it) until a
/// spinner ended, 800 ms or more after the start.
pub fn preemption_and_sleep() -> Outcome {
    let start = expect_ok("clock_gettime", time::monotonic())?;
    let sleeper = child::start("/bin/sleeper", &[SLEEP_MILLISECONDS])?;
    let spinners = [
        child::start("/bin/spin", &[SPIN_MILLISECONDS])?,
        child::start("/bin/spin", &[SPIN_MILLISECONDS])?,
    ];
    let sleeper_ending = child::wait(sleeper)?;
    let sleeper_reaped = expect_ok("clock_gettime", time::monotonic())? - start;
    let mut spinner_endings = [Ending::Killed; 2];
    for (ending, pid) in spinner_endings.iter_mut().zip(spinners) {
        *ending = child::wait(pid)?;
    }
    let all_reaped = expect_ok("clock_gettime", time::monotonic())? - start;

    expect_ending("sleeper", sleeper_ending, Ending::Exited(0))?;
    for (index, ending) in spinner_endings.into_iter().enumerate() {
        expect_ending(&format!("spinner {index}"), ending, Ending::Exited(0))?;
    }
    ensure!(
        sleeper_reaped < SLEEPER_DEADLINE,
        "the sleeper was reaped {sleeper_reaped:?} after the start (limit {SLEEPER_DEADLINE:?}): \
         the spinners were not preempted"
    );
    ensure!(
        all_reaped < DEADLINE,
        "the spinners were reaped {all_reaped:?} after the start (limit {DEADLINE:?})"
    );
    Ok(())
}
