//! The panic handler: report the panic on the console and exit with status 101.

use crate::console::LineWriter;
use crate::sys;
use core::fmt::Write;
use core::panic::PanicInfo;

/// The exit status of a process that panicked (Rust's own convention).
const PANIC_STATUS: i32 = 101;

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    {
        let mut writer = LineWriter::console();
        let _ = write!(writer, "panicked: {}", info.message());
        if let Some(location) = info.location() {
            let _ = write!(writer, " at {}:{}", location.file(), location.line());
        }
        let _ = writeln!(writer);
    }
    sys::exit(PANIC_STATUS)
}
