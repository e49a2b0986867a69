//! `smp-spinner MS`: a CPU-bound loop for `MS` milliseconds that looks, every so often,
//! which CPU it runs on (`sys:cpu`). Exits with a status that packs what it saw: bits 0..8
//! the set of CPUs seen, bits 8..12 the CPU it was seen on most, bits 12.. how many times it
//! looked (capped). Status 0 means it saw nothing (a failure for the caller).
#![no_std]
#![no_main]

extern crate alloc;

use core::time::Duration;
use userlib::{println, time, Args};

userlib::entry!(main);

/// Loop iterations between two looks at `sys:cpu` (a look is three system calls).
const SPIN_BETWEEN_LOOKS: u64 = 2000;

fn main(args: Args) -> i32 {
    let Some(milliseconds) = args.get(1).and_then(|text| text.parse().ok()) else {
        println!("usage: smp-spinner MILLISECONDS");
        return 0;
    };
    let length = Duration::from_millis(milliseconds);
    let Ok(start) = time::monotonic() else {
        return 0;
    };
    let mut seen = [0u32; 8];
    let mut looks: u32 = 0;
    let mut sink: u64 = 0;
    loop {
        for step in 0..SPIN_BETWEEN_LOOKS {
            sink = sink.wrapping_mul(6364136223846793005).wrapping_add(step);
        }
        core::hint::black_box(sink);
        if let Ok(cpu) = smp_tests::current_cpu() {
            if cpu < seen.len() {
                seen[cpu] += 1;
                looks += 1;
            }
        }
        match time::monotonic() {
            Ok(now) if now.saturating_sub(start) >= length => break,
            Ok(_) => {}
            Err(_) => return 0,
        }
    }
    let mask = seen
        .iter()
        .enumerate()
        .filter(|(_, count)| **count > 0)
        .fold(0, |mask, (cpu, _)| mask | 1 << cpu);
    let majority = (0..seen.len()).max_by_key(|&cpu| seen[cpu]).unwrap_or(0);
    mask | (majority as i32) << 8 | (looks.min(0x7_ffff) as i32) << 12
}
