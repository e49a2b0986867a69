//! In-kernel test suites and the guest test protocol.
//!
//! Each test prints `test NAME ... ok`, or its reason on the lines before
//! `test NAME ... FAILED`; a suite ends with one closing line
//! `SUITE-ARCH: N passed, N failed`, which the host harness reads together with QEMU's exit
//! status (ARCHITECTURE.md, "Tests and output").

use crate::arch::{Arch, Cpu, ExitStatus};
use crate::println;
use core::fmt;

/// A failed test. The reason was already printed when the failure was raised, so it sits
/// on the lines before `test NAME ... FAILED` as the protocol asks.
#[derive(Debug)]
pub struct Failure;

impl Failure {
    /// Prints `reason` and returns the failure.
    pub fn new(reason: fmt::Arguments) -> Self {
        println!("{reason}");
        Failure
    }
}

/// The outcome of one test.
pub type TestResult = Result<(), Failure>;

/// Fails the current test with a formatted reason unless `condition` holds.
#[macro_export]
macro_rules! ensure {
    ($condition:expr, $($reason:tt)*) => {
        if !$condition {
            return Err($crate::testing::Failure::new(format_args!($($reason)*)));
        }
    };
}

/// A running suite: counts results and prints the protocol lines.
pub struct Suite {
    name: &'static str,
    passed: u32,
    failed: u32,
}

impl Suite {
    /// Starts the suite `name`.
    pub fn new(name: &'static str) -> Self {
        log::info!("running guest suite `{name}` on {}", Cpu::TARGET);
        Suite {
            name,
            passed: 0,
            failed: 0,
        }
    }

    /// Runs one test and prints its line.
    pub fn run(&mut self, name: &str, test: impl FnOnce() -> TestResult) {
        match test() {
            Ok(()) => {
                self.passed += 1;
                println!("test {name} ... ok");
            }
            Err(Failure) => {
                self.failed += 1;
                println!("test {name} ... FAILED");
            }
        }
    }

    /// Prints the closing line and returns the exit status the run should report.
    pub fn finish(self) -> ExitStatus {
        println!(
            "{}-{}: {} passed, {} failed",
            self.name,
            Cpu::TARGET,
            self.passed,
            self.failed
        );
        if self.failed == 0 && self.passed > 0 {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }
    }
}
