//! The exception vector table and the code that saves and restores a [`TrapFrame`].
//!
//! Each of the 16 vectors makes room for a frame on the current stack, saves x0/x1, loads
//! its index into x0 and branches to `trap_common`. That saves everything else — x2..x30,
//! SP_EL0, ELR, SPSR, TPIDR_EL0, ESR, FAR, FPCR, FPSR, q0..q31 — calls
//! [`crate::trap::aarch64_trap`] with the index and the frame, then restores all of it from
//! the (possibly edited) frame and returns with `eret`.
//!
//! A trap from EL0 lands on SP_EL1, which is whatever `sp` was at the `eret` that entered
//! user mode: the top of the thread's kernel stack (`crate::user`). A kernel hook called from
//! the handler may switch threads and come back much later; the frame stays put on this
//! thread's stack, so the return path needs no other state.

use crate::trap::TrapFrame;
use core::arch::global_asm;
use core::mem::{offset_of, size_of};

// Hand-written: the exception vector table must be laid out instruction by instruction.
global_asm!(
    r#"
    .macro vector_entry index
        .balign 128
        sub sp, sp, #{frame_size}
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
        mrs x1, sp_el0
        str x1, [sp, #{sp_el0}]
        mrs x1, elr_el1
        str x1, [sp, #{elr}]
        mrs x1, spsr_el1
        str x1, [sp, #{spsr}]
        mrs x1, tpidr_el0
        str x1, [sp, #{tpidr_el0}]
        mrs x1, esr_el1
        str x1, [sp, #{esr}]
        mrs x1, far_el1
        str x1, [sp, #{far}]
        mrs x1, fpcr
        str x1, [sp, #{fpcr}]
        mrs x1, fpsr
        str x1, [sp, #{fpsr}]
        add x1, sp, #{vector}
        stp q0, q1, [x1, #0]
        stp q2, q3, [x1, #32]
        stp q4, q5, [x1, #64]
        stp q6, q7, [x1, #96]
        stp q8, q9, [x1, #128]
        stp q10, q11, [x1, #160]
        stp q12, q13, [x1, #192]
        stp q14, q15, [x1, #224]
        stp q16, q17, [x1, #256]
        stp q18, q19, [x1, #288]
        stp q20, q21, [x1, #320]
        stp q22, q23, [x1, #352]
        stp q24, q25, [x1, #384]
        stp q26, q27, [x1, #416]
        stp q28, q29, [x1, #448]
        stp q30, q31, [x1, #480]
        mov x1, sp
        bl {handler}

        add x1, sp, #{vector}
        ldp q0, q1, [x1, #0]
        ldp q2, q3, [x1, #32]
        ldp q4, q5, [x1, #64]
        ldp q6, q7, [x1, #96]
        ldp q8, q9, [x1, #128]
        ldp q10, q11, [x1, #160]
        ldp q12, q13, [x1, #192]
        ldp q14, q15, [x1, #224]
        ldp q16, q17, [x1, #256]
        ldp q18, q19, [x1, #288]
        ldp q20, q21, [x1, #320]
        ldp q22, q23, [x1, #352]
        ldp q24, q25, [x1, #384]
        ldp q26, q27, [x1, #416]
        ldp q28, q29, [x1, #448]
        ldp q30, q31, [x1, #480]
        ldr x1, [sp, #{fpcr}]
        msr fpcr, x1
        ldr x1, [sp, #{fpsr}]
        msr fpsr, x1
        ldr x1, [sp, #{tpidr_el0}]
        msr tpidr_el0, x1
        ldr x1, [sp, #{spsr}]
        msr spsr_el1, x1
        ldr x1, [sp, #{elr}]
        msr elr_el1, x1
        ldr x1, [sp, #{sp_el0}]
        msr sp_el0, x1
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
        add sp, sp, #{frame_size}
        eret
    "#,
    frame_size = const size_of::<TrapFrame>(),
    sp_el0 = const offset_of!(TrapFrame, sp_el0),
    elr = const offset_of!(TrapFrame, elr),
    spsr = const offset_of!(TrapFrame, spsr),
    tpidr_el0 = const offset_of!(TrapFrame, tpidr_el0),
    esr = const offset_of!(TrapFrame, esr),
    far = const offset_of!(TrapFrame, far),
    fpcr = const offset_of!(TrapFrame, fpcr),
    fpsr = const offset_of!(TrapFrame, fpsr),
    vector = const offset_of!(TrapFrame, vector),
    handler = sym crate::trap::aarch64_trap,
);
