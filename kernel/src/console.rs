//! The boot console: `print!`/`println!` and the `log` backend, both on the serial port.
//!
//! Log lines carry their level and target (`[INFO  kernel::memory] ...`), so a reader can
//! tell at a glance who said what. Test-protocol lines (`test NAME ... ok`) are printed
//! bare with `println!` so the host harness reads them exactly.

use crate::arch::{Arch, Cpu};
use core::fmt::{self, Write};
use log::{LevelFilter, Log, Metadata, Record};
use spin::Mutex;

/// Serialises writers so lines never interleave.
static CONSOLE: Mutex<Console> = Mutex::new(Console);

struct Console;

impl Write for Console {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        Cpu::console_write(text.as_bytes());
        Ok(())
    }
}

/// Writes formatted text to the console (used by the `print!` macros).
pub fn write_fmt(arguments: fmt::Arguments) {
    let _ = CONSOLE.lock().write_fmt(arguments);
}

/// Writes raw bytes to the console (`console:`'s `write`), whole, between other writers'.
pub fn write_bytes(bytes: &[u8]) {
    let _console = CONSOLE.lock();
    Cpu::console_write(bytes);
}

/// Writes formatted text to the console even if another writer holds the lock (a panic
/// report must get out even when the panic happened mid-line).
pub fn write_fmt_forced(arguments: fmt::Arguments) {
    let _ = Console.write_fmt(arguments);
}

/// Prints to the console.
#[macro_export]
macro_rules! print {
    ($($argument:tt)*) => { $crate::console::write_fmt(format_args!($($argument)*)) };
}

/// Prints a line to the console.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($argument:tt)*) => { $crate::print!("{}\n", format_args!($($argument)*)) };
}

struct SerialLogger;

impl Log for SerialLogger {
    fn enabled(&self, _: &Metadata) -> bool {
        true
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            write_fmt(format_args!(
                "[{:<5} {}] {}\n",
                record.level(),
                record.target(),
                record.args()
            ));
        }
    }

    fn flush(&self) {}
}

static LOGGER: SerialLogger = SerialLogger;

/// Installs the serial logger as the `log` backend at `level`.
pub fn init_logging(level: LevelFilter) {
    // A second call finds the logger already set, which is fine.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}
