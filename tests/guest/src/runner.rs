//! Running tests and printing the guest test protocol.
//!
//! Each test prints `test NAME ... ok`, or its reason (indented lines) followed by
//! `test NAME ... FAILED`; the suite ends with `SUITE-ARCH: N passed, N failed`. The lines go
//! to `debug:raw` — the kernel's debug console without the process-name prefix, which the
//! host harness could not parse — and to the ordinary prefixed console if that path does
//! not exist.

use crate::check::Outcome;
use core::fmt::Write;
use userlib::console::{self, LineWriter};
use userlib::sys::{self, flag::O_WRONLY};

/// Where protocol lines go when the kernel offers them an unprefixed console.
pub const PROTOCOL_CONSOLE: &str = "debug:raw";

/// The CPU this program was built for, as the suite's closing line names it.
pub const ARCH: &str = if cfg!(target_arch = "x86_64") {
    "x86_64"
} else if cfg!(target_arch = "aarch64") {
    "aarch64"
} else {
    "unknown"
};

/// A suite in progress: where its lines go and its counts.
pub struct Suite {
    name: &'static str,
    fd: usize,
    passed: u32,
    failed: u32,
}

impl Suite {
    /// Starts suite `name` (e.g. `process`).
    pub fn new(name: &'static str) -> Self {
        let fd = sys::open(PROTOCOL_CONSOLE, O_WRONLY).unwrap_or_else(|_| console::descriptor());
        Self {
            name,
            fd,
            passed: 0,
            failed: 0,
        }
    }

    /// Runs `test` and prints its result under `name`.
    pub fn run(&mut self, name: &str, test: fn() -> Outcome) {
        let mut writer = LineWriter::new(self.fd);
        match test() {
            Ok(()) => {
                self.passed += 1;
                let _ = writeln!(writer, "test {name} ... ok");
            }
            Err(reason) => {
                self.failed += 1;
                for line in reason.lines() {
                    let _ = writeln!(writer, "    {line}");
                    writer.flush();
                }
                let _ = writeln!(writer, "test {name} ... FAILED");
            }
        }
    }

    /// Prints the closing line and returns the exit status: 0 when every test passed.
    pub fn finish(self) -> i32 {
        let mut writer = LineWriter::new(self.fd);
        let _ = writeln!(
            writer,
            "{}-{ARCH}: {} passed, {} failed",
            self.name, self.passed, self.failed
        );
        if self.failed == 0 {
            0
        } else {
            1
        }
    }
}
