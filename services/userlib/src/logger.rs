//! The `log` backend: each record becomes one `[LEVEL target] message` line on the console.
//!
//! [`start`](crate::start) installs it before `main` with the level at `Info`; a program
//! may change that with `log::set_max_level`. The kernel's `debug:` scheme puts the process
//! name in front of every line, so the line itself does not repeat it.

use crate::console::LineWriter;
use core::fmt::Write;
use log::{LevelFilter, Log, Metadata, Record};

/// The level a program starts with.
pub const DEFAULT_LEVEL: LevelFilter = LevelFilter::Info;

/// Writes log records to the debug console.
pub struct ConsoleLogger;

impl Log for ConsoleLogger {
    fn enabled(&self, _metadata: &Metadata) -> bool {
        true
    }

    fn log(&self, record: &Record) {
        let mut writer = LineWriter::console();
        // `LineWriter` never fails; the line is written when `writer` drops.
        let _ = writeln!(
            writer,
            "[{:<5} {}] {}",
            record.level(),
            record.target(),
            record.args()
        );
    }

    fn flush(&self) {}
}

static LOGGER: ConsoleLogger = ConsoleLogger;

/// Makes [`ConsoleLogger`] the `log` backend at [`DEFAULT_LEVEL`]. Calling it again changes
/// nothing.
pub fn install() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(DEFAULT_LEVEL);
    }
}
