//! `threader MODE`: a process with several threads, for the `process` suite's thread tests
//! of how a multi-threaded process ends.
//!
//! Modes (the driver checks the ending `waitpid` reports, and that no thread of it is left
//! in `sys:processes` afterwards):
//! - `exit-all`: three threads sleep or spin forever; the first thread calls `exit(7)`:
//!   every thread ends and the process exits 7.
//! - `fault`: two threads sleep forever, a third writes to an unmapped address; the first
//!   thread sleeps 10 s and would exit 0: the fault must end the whole process (killed).
//! - `last-thread`: a second thread sleeps 30 ms and returns 9; the first thread ends
//!   itself with `thread::exit(0)` at once: the process lives on and exits 9.
//! - `spin`: three threads spin; the first joins one of them: the driver kills the process,
//!   which must end every thread (the joiner too).
#![no_std]
#![no_main]

extern crate alloc;

use core::hint::black_box;
use core::time::Duration;
use process_tests::USAGE_STATUS;
use userlib::{println, sys, thread, time, Args};

userlib::entry!(main);

const STACK: usize = 16 * 1024;

fn main(args: Args) -> i32 {
    match args.get(1) {
        Some("exit-all") => exit_all(),
        Some("fault") => fault(),
        Some("last-thread") => last_thread(),
        Some("spin") => spin(),
        _ => {
            println!("usage: threader exit-all | fault | last-thread | spin");
            USAGE_STATUS
        }
    }
}

fn sleep_forever() -> u32 {
    loop {
        let _ = time::sleep(Duration::from_millis(5));
    }
}

fn spin_forever() -> u32 {
    let mut count = 0u64;
    loop {
        count = black_box(count.wrapping_add(1));
    }
}

fn start(body: fn() -> u32) -> Option<thread::JoinHandle> {
    match thread::spawn(STACK, body) {
        Ok(handle) => Some(handle),
        Err(error) => {
            println!("threader: cannot spawn a thread: {error}");
            None
        }
    }
}

fn exit_all() -> i32 {
    let started = [
        start(sleep_forever),
        start(spin_forever),
        start(sleep_forever),
    ];
    if started.iter().any(Option::is_none) {
        return 1;
    }
    let _ = time::sleep(Duration::from_millis(20));
    sys::exit(7)
}

fn fault() -> i32 {
    if start(sleep_forever).is_none() || start(sleep_forever).is_none() {
        return 1;
    }
    let toucher = start(|| {
        // SAFETY: deliberately writes to an address nothing maps: the kernel kills the
        // process.
        unsafe { core::ptr::write_volatile(0x1000 as *mut u64, 1) };
        0
    });
    if toucher.is_none() {
        return 1;
    }
    let _ = time::sleep(Duration::from_secs(10));
    0
}

fn last_thread() -> i32 {
    let later = start(|| {
        let _ = time::sleep(Duration::from_millis(30));
        9
    });
    if later.is_none() {
        return 1;
    }
    thread::exit(0)
}

fn spin() -> i32 {
    let spinners = [
        start(spin_forever),
        start(spin_forever),
        start(spin_forever),
    ];
    let [Some(first), Some(_), Some(_)] = spinners else {
        return 1;
    };
    let _ = first.join();
    println!("threader: the join of a spinning thread returned");
    1
}
