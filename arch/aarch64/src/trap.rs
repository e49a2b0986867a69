//! Exceptions: the EL1 vector table and the report-and-stop handler.
//!
//! Each of the 16 vectors saves x0/x1, loads its index into x0 and branches to
//! `trap_common`, which saves the rest of the registers with ELR, SPSR, ESR and FAR into a
//! [`TrapFrame`] and calls [`aarch64_trap`]. A `brk` is counted and resumed after the
//! instruction; anything else prints the exception class, syndrome, fault address and all
//! registers, then powers off with a failure status.

use core::arch::{asm, global_asm};
use core::fmt::Write;
use core::mem::size_of;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel_core::ExitStatus;

/// Registers saved on every exception.
#[repr(C)]
#[derive(Debug)]
pub struct TrapFrame {
    /// x0 .. x30.
    pub registers: [u64; 31],
    /// Exception link register: where execution resumes.
    pub elr: u64,
    /// Saved program status.
    pub spsr: u64,
    /// Exception syndrome.
    pub esr: u64,
    /// Fault address.
    pub far: u64,
    padding: u64,
}

const _: () = assert!(size_of::<TrapFrame>() == 288);

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

/// A readable name for ESR_EL1.EC.
pub fn exception_class_name(class: u64) -> &'static str {
    match class {
        0x00 => "unknown reason (undefined instruction)",
        0x01 => "trapped WFI/WFE",
        0x07 => "FP/SIMD access trapped",
        0x0e => "illegal execution state",
        0x15 => "SVC from AArch64",
        0x18 => "trapped system register access",
        0x20 => "instruction abort from a lower level",
        0x21 => "instruction abort at the same level",
        0x22 => "PC alignment fault",
        0x24 => "data abort from a lower level",
        0x25 => "data abort at the same level",
        0x26 => "SP alignment fault",
        0x2f => "SError",
        0x3c => "BRK instruction",
        _ => "other",
    }
}

/// Called by `trap_common` with the vector index and the saved frame.
extern "C" fn aarch64_trap(vector: u64, frame: &mut TrapFrame) {
    let class = frame.esr >> 26;
    if vector.is_multiple_of(4) && class == EXCEPTION_CLASS_BRK {
        BREAKPOINTS_CAUGHT.fetch_add(1, Ordering::Relaxed);
        frame.elr += 4;
        return;
    }
    if vector.is_multiple_of(4) && crate::probe::recover(frame, exception_class_name(class)) {
        return;
    }
    report(vector, frame);
    crate::power_off(ExitStatus::Failure);
}

fn report(vector: u64, frame: &TrapFrame) {
    let mut out = crate::Console;
    let class = frame.esr >> 26;
    let _ = writeln!(
        out,
        "\nFATAL: unexpected exception: {}, class {class:#04x} ({}), ESR {:#010x}",
        vector_name(vector),
        exception_class_name(class),
        frame.esr
    );
    let _ = writeln!(
        out,
        "  fault address (FAR) {:#018x}  ELR {:#018x}  SPSR {:#010x}",
        frame.far, frame.elr, frame.spsr
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
    let table = core::ptr::addr_of!(exception_vectors) as u64;
    // SAFETY: `exception_vectors` is the 2 KiB-aligned table defined below.
    unsafe { asm!("msr vbar_el1, {}", "isb", in(reg) table, options(nostack)) };
}

global_asm!(
    r#"
    .macro vector_entry index
        .balign 128
        sub sp, sp, #288
        stp x0, x1, [sp, #0]
        mov x0, #\index
        b trap_common
    .endm

    .text
    .balign 2048
    .global exception_vectors
    exception_vectors:
        vector_entry 0
        vector_entry 1
        vector_entry 2
        vector_entry 3
        vector_entry 4
        vector_entry 5
        vector_entry 6
        vector_entry 7
        vector_entry 8
        vector_entry 9
        vector_entry 10
        vector_entry 11
        vector_entry 12
        vector_entry 13
        vector_entry 14
        vector_entry 15

    trap_common:
        stp x2, x3, [sp, #16]
        stp x4, x5, [sp, #32]
        stp x6, x7, [sp, #48]
        stp x8, x9, [sp, #64]
        stp x10, x11, [sp, #80]
        stp x12, x13, [sp, #96]
        stp x14, x15, [sp, #112]
        stp x16, x17, [sp, #128]
        stp x18, x19, [sp, #144]
        stp x20, x21, [sp, #160]
        stp x22, x23, [sp, #176]
        stp x24, x25, [sp, #192]
        stp x26, x27, [sp, #208]
        stp x28, x29, [sp, #224]
        str x30, [sp, #240]
        mrs x1, elr_el1
        mrs x2, spsr_el1
        stp x1, x2, [sp, #248]
        mrs x1, esr_el1
        mrs x2, far_el1
        stp x1, x2, [sp, #264]
        mov x1, sp
        bl {handler}
        ldp x1, x2, [sp, #248]
        msr elr_el1, x1
        msr spsr_el1, x2
        ldp x2, x3, [sp, #16]
        ldp x4, x5, [sp, #32]
        ldp x6, x7, [sp, #48]
        ldp x8, x9, [sp, #64]
        ldp x10, x11, [sp, #80]
        ldp x12, x13, [sp, #96]
        ldp x14, x15, [sp, #112]
        ldp x16, x17, [sp, #128]
        ldp x18, x19, [sp, #144]
        ldp x20, x21, [sp, #160]
        ldp x22, x23, [sp, #176]
        ldp x24, x25, [sp, #192]
        ldp x26, x27, [sp, #208]
        ldp x28, x29, [sp, #224]
        ldr x30, [sp, #240]
        ldp x0, x1, [sp, #0]
        add sp, sp, #288
        eret
    "#,
    handler = sym aarch64_trap,
);
