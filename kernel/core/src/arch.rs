//! The contract each arch crate fulfils: the seam the kernel is written against.
//!
//! The kernel names one type, `arch::Cpu`, that implements [`Arch`]; it never asks which CPU
//! it runs on. Each method is small and has the same meaning on every CPU.

/// How the machine should report the end of a run to whoever started it (QEMU's exit
/// status under test).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything the run meant to do succeeded.
    Success,
    /// Something failed: a test, a panic, an unexpected exception.
    Failure,
}

/// A fault taken by a probe or by user mode: the access did not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The address that faulted.
    pub address: u64,
    /// The CPU's description of the fault (exception name or class).
    pub cause: &'static str,
}

/// What every CPU port provides to the arch-neutral kernel.
pub trait Arch {
    /// A short description of the CPU and boot protocol for the boot log.
    const NAME: &'static str;

    /// The architecture's short name as used in suite closing lines (`x86_64`, `aarch64`).
    const TARGET: &'static str;

    /// Bytes at the bottom of physical memory the kernel never uses (x86: the real-mode
    /// interrupt table, BIOS data and option ROMs below 1 MiB).
    const RESERVED_LOW_MEMORY: u64;

    /// Writes raw bytes to the boot console (the serial port). Never fails, never blocks
    /// for long; safe to call from an exception handler.
    fn console_write(bytes: &[u8]);

    /// Turns the machine off reporting `status`; under QEMU this exits QEMU with a status
    /// the test harness checks.
    fn power_off(status: ExitStatus) -> !;

    /// Stops this CPU for good (interrupts off, halted).
    fn halt() -> !;

    /// Raises a breakpoint exception and returns once the handler has resumed execution.
    fn breakpoint();

    /// How many breakpoint exceptions the trap handler has caught and returned from.
    fn breakpoints_caught() -> u64;

    /// The kernel virtual address at which physical address `physical` can be read.
    fn physical_to_virtual(physical: u64) -> usize;
}
