//! Kernel threads' suspended registers and the switch between them.
//!
//! A switch is an ordinary function call (`aarch64_switch_context`), so it only keeps what
//! AAPCS64 makes callee-saved: x19..x28, the frame pointer x29, the return address x30, the
//! stack pointer, and the low halves d8..d15 of v8..v15 — the kernel's Rust code uses the
//! FP/SIMD registers, so leaving those out would let one thread overwrite another's.
//! Everything else the compiler already treats as clobbered by the call.

use core::arch::global_asm;
use core::mem::{offset_of, size_of};

/// A suspended kernel thread's registers.
#[repr(C)]
#[derive(Debug, Default, Clone)]
pub struct Context {
    /// x19 .. x28.
    pub callee_saved: [u64; 10],
    /// x29.
    pub frame_pointer: u64,
    /// x30: where the switch returns to.
    pub link_register: u64,
    /// The kernel stack pointer.
    pub stack_pointer: u64,
    /// d8 .. d15 (the callee-saved low halves of v8 .. v15).
    pub floating_point: [u64; 8],
}

const _: () = assert!(size_of::<Context>() == 21 * 8);

extern "C" {
    /// Saves the current registers in `from` and loads those in `to`.
    fn aarch64_switch_context(from: *mut Context, to: *const Context);
    /// Where a fresh context starts: masks IRQs and calls x19 with x20 as its argument.
    fn aarch64_context_start();
}

/// Prepares `context` to run `entry(argument)` on the stack whose top is `stack_top`
/// (rounded down to 16 bytes), with IRQs masked.
pub fn initialize(
    context: &mut Context,
    stack_top: u64,
    entry: extern "C" fn(usize) -> !,
    argument: usize,
) {
    *context = Context::default();
    context.callee_saved[0] = entry as usize as u64;
    context.callee_saved[1] = argument as u64;
    let start: unsafe extern "C" fn() = aarch64_context_start;
    context.link_register = start as usize as u64;
    context.stack_pointer = stack_top & !15;
}

/// Saves the running thread's registers in `from` and resumes `to`.
///
/// # Safety
/// Both pointers must be valid; `to` was filled by [`initialize`] or by a switch away from
/// it, and its stack is still alive.
pub unsafe fn switch(from: *mut Context, to: *const Context) {
    // SAFETY: the caller guarantees both contexts; the switch is a normal call that returns
    // once something switches back to `from`.
    unsafe { aarch64_switch_context(from, to) };
}

// Hand-written: the context switch saves and restores callee-saved registers and `sp`.
global_asm!(
    r#"
    .text
    .global aarch64_switch_context
    aarch64_switch_context:
        stp x19, x20, [x0, #0]
        stp x21, x22, [x0, #16]
        stp x23, x24, [x0, #32]
        stp x25, x26, [x0, #48]
        stp x27, x28, [x0, #64]
        stp x29, x30, [x0, #80]
        mov x9, sp
        str x9, [x0, #{stack_pointer}]
        add x9, x0, #{floating_point}
        stp d8, d9, [x9, #0]
        stp d10, d11, [x9, #16]
        stp d12, d13, [x9, #32]
        stp d14, d15, [x9, #48]

        ldp x19, x20, [x1, #0]
        ldp x21, x22, [x1, #16]
        ldp x23, x24, [x1, #32]
        ldp x25, x26, [x1, #48]
        ldp x27, x28, [x1, #64]
        ldp x29, x30, [x1, #80]
        ldr x9, [x1, #{stack_pointer}]
        mov sp, x9
        add x9, x1, #{floating_point}
        ldp d8, d9, [x9, #0]
        ldp d10, d11, [x9, #16]
        ldp d12, d13, [x9, #32]
        ldp d14, d15, [x9, #48]
        ret

    .global aarch64_context_start
    aarch64_context_start:
        msr daifset, #2
        mov x0, x20
        mov x29, xzr
        mov x30, xzr
        br x19
    "#,
    stack_pointer = const offset_of!(Context, stack_pointer),
    floating_point = const offset_of!(Context, floating_point),
);

const _: () = assert!(offset_of!(Context, frame_pointer) == 80);
