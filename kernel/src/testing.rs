//! In-kernel test suites and the guest test protocol.
//!
//! Each test prints `test NAME ... ok`, or its reason on the lines before
//! `test NAME ... FAILED`; a suite ends with one closing line
//! `SUITE-ARCH: N passed, N failed`, which the host harness reads together with QEMU's exit
//! status (ARCHITECTURE.md, "Tests and output").

use crate::arch::{Arch, Cpu, ExitStatus};
use crate::println;
use core::fmt::{self, Write};

/// Why a test failed, formatted into a fixed buffer (tests run before the heap exists).
pub struct Failure {
    text: [u8; 256],
    length: usize,
}

impl Failure {
    /// Formats a failure reason, truncating it at 256 bytes.
    pub fn new(arguments: fmt::Arguments) -> Self {
        let mut failure = Failure { text: [0; 256], length: 0 };
        let _ = failure.write_fmt(arguments);
        failure
    }

    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.text[..self.length]).unwrap_or("(reason not UTF-8)")
    }
}

impl Write for Failure {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let room = self.text.len() - self.length;
        let mut take = text.len().min(room);
        while !text.is_char_boundary(take) {
            take -= 1;
        }
        self.text[self.length..self.length + take].copy_from_slice(&text.as_bytes()[..take]);
        self.length += take;
        Ok(())
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
        Suite { name, passed: 0, failed: 0 }
    }

    /// Runs one test and prints its line.
    pub fn run(&mut self, name: &str, test: impl FnOnce() -> TestResult) {
        match test() {
            Ok(()) => {
                self.passed += 1;
                println!("test {name} ... ok");
            }
            Err(failure) => {
                self.failed += 1;
                println!("{}", failure.as_str());
                println!("test {name} ... FAILED");
            }
        }
    }

    /// Prints the closing line and returns the exit status the run should report.
    pub fn finish(self) -> ExitStatus {
        println!("{}-{}: {} passed, {} failed", self.name, Cpu::TARGET, self.passed, self.failed);
        if self.failed == 0 && self.passed > 0 {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }
    }
}
