//! Helpers shared by the `process` suite's programs: the test runner, checks, child
//! processes and raw memory probes.
//!
//! The suite's programs are installed in the initfs as `/bin/NAME`:
//! - `process-tests`: the driver the test image's manifest starts; runs every test and
//!   prints the guest test protocol;
//! - `spin MS`, `sleeper MS`: a CPU-bound loop and a sleeper, for scheduling tests;
//! - `bad-access MODE`: makes one access the kernel must refuse, so it must be killed;
//! - `short-lived [status N | expect-args ...]`: exits at once, for the process-churn and
//!   exit-status tests;
//! - `lender serve | borrow-and-touch`: a scheme server that lends a page of its own memory,
//!   and a borrower that touches it after the server exited.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

pub mod check;
pub mod child;
pub mod lending;
pub mod probe;
pub mod runner;
pub mod sys_memory;

/// Exit status of a child whose forbidden access went through (it was not killed).
pub const ACCESS_WENT_THROUGH: i32 = 3;

/// Exit status of a child given arguments it does not understand.
pub const USAGE_STATUS: i32 = 2;

/// The arguments `short-lived expect-args` checks it received after `expect-args`.
pub const EXPECTED_ARGUMENTS: [&str; 3] = ["one", "two words", ""];
