//! `spin MS`: a CPU-bound loop that never yields, for `MS` milliseconds of monotonic time.
//!
//! It counts loop iterations and exits 0 when it made real progress (at least
//! [`MINIMUM_ITERATIONS`]), 1 when it did not, 2 on bad arguments. Because it never blocks or
//! yields, other processes run beside it only if the kernel preempts it.
#![no_std]
#![no_main]

extern crate alloc;

use core::time::Duration;
use process_tests::USAGE_STATUS;
use userlib::{println, time, Args};

userlib::entry!(main);

/// Iterations that count as progress: each one is a `clock_gettime` call. This proves the
/// spinner ran, not how fast: an emulated CPU on a loaded two-core host managed only 92 in
/// 200 ms once, so a rate would make the test flaky.
const MINIMUM_ITERATIONS: u64 = 10;

fn main(args: Args) -> i32 {
    let Some(milliseconds) = args.get(1).and_then(|text| text.parse().ok()) else {
        println!("usage: spin MILLISECONDS");
        return USAGE_STATUS;
    };
    let length = Duration::from_millis(milliseconds);
    let Ok(start) = time::monotonic() else {
        return 1;
    };
    let mut iterations: u64 = 0;
    loop {
        iterations += 1;
        match time::monotonic() {
            Ok(now) if now.saturating_sub(start) >= length => break,
            Ok(_) => {}
            Err(_) => return 1,
        }
    }
    if iterations >= MINIMUM_ITERATIONS {
        0
    } else {
        println!("only {iterations} iterations in {milliseconds} ms");
        1
    }
}
