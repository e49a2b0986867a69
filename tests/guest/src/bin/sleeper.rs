//! `sleeper MS`: sleeps `MS` milliseconds with `nanosleep` and checks the clock agrees.
//!
//! Exits 0 when the monotonic clock shows at least `MS` and less than [`LATEST`] elapsed
//! across the sleep, 1 otherwise (with the reason on the console), 2 on bad arguments. Run
//! beside CPU-bound spinners, waking in time shows that the kernel preempts them.
#![no_std]
#![no_main]

extern crate alloc;

use core::time::Duration;
use process_tests::USAGE_STATUS;
use userlib::{println, time, Args};

userlib::entry!(main);

/// The latest the sleeper may wake and still pass.
const LATEST: Duration = Duration::from_millis(1000);

fn main(args: Args) -> i32 {
    let Some(milliseconds) = args.get(1).and_then(|text| text.parse().ok()) else {
        println!("usage: sleeper MILLISECONDS");
        return USAGE_STATUS;
    };
    let length = Duration::from_millis(milliseconds);
    let (Ok(start), Ok(()), Ok(end)) = (time::monotonic(), time::sleep(length), time::monotonic())
    else {
        println!("clock_gettime or nanosleep failed");
        return 1;
    };
    let elapsed = end.saturating_sub(start);
    if elapsed < length {
        println!("woke after {elapsed:?}, before the {length:?} asked for");
        1
    } else if elapsed >= LATEST {
        println!("woke after {elapsed:?}, {LATEST:?} or more for a {length:?} sleep");
        1
    } else {
        0
    }
}
