//! `dmabench`'s pure parts: turning counter samples into a median and a 99th percentile in
//! cycles, and the result lines the host reads.
//!
//! The program (`src/main.rs`) prints, to the kernel's unprefixed console, one line stating
//! the counter and its scale,
//!
//! ```text
//! bench-clock counter=cntvct counter_hz=62500000 cycles_per_tick=32 nominal_cpu_hz=2000000000
//! ```
//!
//! and one line per measurement, which `cargo xtask bench --guest` parses:
//!
//! ```text
//! bench null_call median_cycles=1234.0 p99_cycles=2345.0 iterations=10000
//! ```
//!
//! A measurement that cannot run prints `bench-skip NAME REASON` instead.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod summary;

pub use summary::Summary;
