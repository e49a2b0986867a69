//! Exceptions: the saved register frame, and where each of the 16 vectors goes.
//!
//! Every exception saves the complete register state — general registers, SP_EL0, ELR,
//! SPSR, TPIDR_EL0, ESR, FAR and the FP/SIMD registers — as a [`TrapFrame`] on the current
//! kernel stack (`crate::vectors`) and calls [`aarch64_trap`], which dispatches:
//! - synchronous at EL1: a `brk` is counted and resumed, a fault in the probe's load is
//!   recovered, anything else is reported and the machine powered off;
//! - synchronous from EL0: a system call or a user fault, handed to the kernel
//!   ([`crate::user`]);
//! - IRQ at EL1 (the idle loop) or from EL0: the interrupt controller ([`crate::interrupt`]);
//! - anything else (FIQ, SError, EL1 with SP_EL0, AArch32): reported, powered off.
//!
//! The frame holds the FP/SIMD registers because the kernel's Rust code uses them too
//! (`aarch64-unknown-none` enables NEON), so user values would not survive a kernel entry.

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{Writeable, VBAR_EL1};
use core::fmt::Write;
use core::mem::size_of;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel_core::ExitStatus;

/// Registers saved on every exception; a user thread's frame (`UserFrame`) on its kernel
/// stack.
#[repr(C)]
#[derive(Debug)]
pub struct TrapFrame {
    /// x0 .. x30.
    pub registers: [u64; 31],
    /// The user stack pointer (SP_EL0).
    pub sp_el0: u64,
    /// Exception link register: where execution resumes.
    pub elr: u64,
    /// Saved program status.
    pub spsr: u64,
    /// The user thread pointer (TPIDR_EL0).
    pub tpidr_el0: u64,
    /// Exception syndrome.
    pub esr: u64,
    /// Fault address.
    pub far: u64,
    /// Floating-point control.
    pub fpcr: u64,
    /// Floating-point status.
    pub fpsr: u64,
    padding: u64,
    /// q0 .. q31.
    pub vector: [u128; 32],
}

const _: () = assert!(size_of::<TrapFrame>() == 832);
const _: () = assert!(core::mem::offset_of!(TrapFrame, vector) == 320);

/// Vector index: synchronous exception at EL1 while using SP_EL0 (never: we run at EL1h).
const SYNCHRONOUS_CURRENT_SP_EL0: u64 = 0;
/// Vector index: synchronous exception at EL1.
const SYNCHRONOUS_CURRENT: u64 = 4;
/// Vector index: IRQ at EL1 (taken while idle).
const IRQ_CURRENT: u64 = 5;
/// Vector index: synchronous exception from EL0 in AArch64 state.
const SYNCHRONOUS_LOWER: u64 = 8;
/// Vector index: IRQ from EL0 in AArch64 state.
const IRQ_LOWER: u64 = 9;

/// ESR_EL1.EC for a `brk` instruction in AArch64 state.
const EXCEPTION_CLASS_BRK: u64 = 0x3c;

static BREAKPOINTS_CAUGHT: AtomicU64 = AtomicU64::new(0);

/// How many `brk` traps were caught and resumed.
pub fn breakpoints_caught() -> u64 {
    BREAKPOINTS_CAUGHT.load(Ordering::Relaxed)
}

/// Which of the 16 vectors was taken.
fn vector_name(index: u64) -> &'static str {
    const NAMES: [&str; 16] = [
        "synchronous (EL1, SP_EL0)",
        "IRQ (EL1, SP_EL0)",
        "FIQ (EL1, SP_EL0)",
        "SError (EL1, SP_EL0)",
        "synchronous (EL1)",
        "IRQ (EL1)",
        "FIQ (EL1)",
        "SError (EL1)",
        "synchronous (EL0, AArch64)",
        "IRQ (EL0, AArch64)",
        "FIQ (EL0, AArch64)",
        "SError (EL0, AArch64)",
        "synchronous (EL0, AArch32)",
        "IRQ (EL0, AArch32)",
        "FIQ (EL0, AArch32)",
        "SError (EL0, AArch32)",
    ];
    NAMES
        .get(index as usize)
        .copied()
        .unwrap_or("unknown vector")
}

/// Called by the vector code with the vector index and the saved frame.
pub(crate) extern "C" fn aarch64_trap(vector: u64, frame: &mut TrapFrame) {
    match vector {
        SYNCHRONOUS_CURRENT_SP_EL0 | SYNCHRONOUS_CURRENT => kernel_synchronous(vector, frame),
        SYNCHRONOUS_LOWER => crate::user::synchronous(frame),
        IRQ_CURRENT | IRQ_LOWER => crate::interrupt::handle(),
        _ => {
            report(vector, frame);
            crate::power_off(ExitStatus::Failure);
        }
    }
}

/// A synchronous exception in the kernel: a breakpoint, a probe, or a fatal bug.
fn kernel_synchronous(vector: u64, frame: &mut TrapFrame) {
    let class = crate::fault::exception_class(frame.esr);
    if class == EXCEPTION_CLASS_BRK {
        BREAKPOINTS_CAUGHT.fetch_add(1, Ordering::Relaxed);
        frame.elr += 4;
        return;
    }
    if crate::user_copy::recover(frame)
        || crate::probe::recover(frame, crate::fault::exception_class_name(class))
    {
        return;
    }
    report(vector, frame);
    crate::power_off(ExitStatus::Failure);
}

fn report(vector: u64, frame: &TrapFrame) {
    let mut out = crate::Console;
    let class = crate::fault::exception_class(frame.esr);
    let _ = writeln!(
        out,
        "\nFATAL: unexpected exception: {}, class {class:#04x} ({}), ESR {:#010x}",
        vector_name(vector),
        crate::fault::exception_class_name(class),
        frame.esr
    );
    let _ = writeln!(
        out,
        "  fault address (FAR) {:#018x}  ELR {:#018x}  SPSR {:#010x}  SP_EL0 {:#018x}",
        frame.far, frame.elr, frame.spsr, frame.sp_el0
    );
    for (row, chunk) in frame.registers.chunks(4).enumerate() {
        let _ = write!(out, " ");
        for (column, value) in chunk.iter().enumerate() {
            let _ = write!(out, " x{:<2} {value:#018x}", row * 4 + column);
        }
        let _ = writeln!(out);
    }
}

extern "C" {
    static exception_vectors: u8;
}

/// Installs the vector table.
///
/// # Safety
/// Call once, early, on the boot CPU.
pub unsafe fn init() {
    // `exception_vectors` is the 2 KiB-aligned table in `crate::vectors`.
    VBAR_EL1.set(core::ptr::addr_of!(exception_vectors) as u64);
    barrier::isb(barrier::SY);
}
