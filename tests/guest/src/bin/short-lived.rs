//! `short-lived [status N | expect-args ARGS...]`: exits at once.
//!
//! - no arguments: touches a little heap and stack and exits 0 (process churn);
//! - `status N`: exits with status `N`;
//! - `expect-args ARGS...`: exits 0 when `argv[0]` is `/bin/short-lived` and `ARGS` are
//!   exactly [`EXPECTED_ARGUMENTS`], else 1.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use process_tests::{EXPECTED_ARGUMENTS, USAGE_STATUS};
use userlib::{println, Args};

userlib::entry!(main);

fn main(args: Args) -> i32 {
    match args.get(1) {
        None => churn(),
        Some("status") => args
            .get(2)
            .and_then(|text| text.parse().ok())
            .unwrap_or(USAGE_STATUS),
        Some("expect-args") => {
            let rest: Vec<&str> = args.clone().skip(2).collect();
            if args.program() == "/bin/short-lived" && rest == EXPECTED_ARGUMENTS {
                0
            } else {
                println!("got argv[0] {:?} and arguments {rest:?}", args.program());
                1
            }
        }
        Some(other) => {
            println!("unknown mode {other:?}");
            USAGE_STATUS
        }
    }
}

/// Uses heap and stack a little so each process's pages are really touched.
fn churn() -> i32 {
    let mut heap: Vec<u64> = Vec::with_capacity(512);
    heap.extend(0..512);
    let stack = core::hint::black_box([7u8; 8192]);
    let sum: u64 = heap.iter().sum::<u64>() + u64::from(stack[4096]);
    if sum == (0..512).sum::<u64>() + 7 {
        0
    } else {
        1
    }
}
