//! The panic handler: report the message and location, then power off with a failure.

use crate::arch::{Arch, Cpu, ExitStatus};
use crate::console;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    console::write_fmt_forced(format_args!("\nKERNEL PANIC: {info}\n"));
    Cpu::power_off(ExitStatus::Failure)
}
