//! Checks of dmad's answers that also look at the pool: a refused request changes nothing.

use crate::stats;
use crate::DEVICE;
use alloc::format;
use core::fmt::Debug;
use process_tests::check::{expect_errno, Outcome};
use userlib::sys::Result;

/// Runs `request`, expecting it to fail with `errno` (`what` names it in the reason), and
/// checks that the pool's counts are afterwards what they were before.
///
/// Whatever a wrongly successful request returned is dropped, so a buffer it allocated is
/// closed before the counts are compared.
///
/// # Errors
///
/// A reason when the errno differs or the pool changed.
pub fn expect_refused<T: Debug>(
    what: &str,
    errno: i32,
    request: impl FnOnce() -> Result<T>,
) -> Outcome {
    let before = stats::read(DEVICE)?;
    let refused = expect_errno(what, request(), errno);
    let unchanged = stats::settle(DEVICE, before, &format!("after {what}"));
    refused.and(unchanged)
}
