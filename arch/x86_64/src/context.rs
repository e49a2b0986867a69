//! Kernel threads' saved registers, switching between them, and the first entry to user mode.
//!
//! A [`Context`] holds what the System V ABI makes a callee preserve (rbx, rbp, r12–r15),
//! the stack pointer and where to resume. `x86_64_switch_context` saves the running thread's
//! into `from` with the resume point just before its `ret`, and jumps into `to`'s. A new
//! context resumes in `x86_64_context_start`, which calls `entry(argument)` (kept in r12 and
//! r13) with interrupts off and the stack as a `call` leaves it. Interrupts are off whenever
//! the kernel runs, so RFLAGS needs no saving.

use crate::gdt::{USER_CODE, USER_DATA};
use core::arch::global_asm;
use core::mem::offset_of;

/// A suspended kernel thread's registers.
#[repr(C)]
#[derive(Debug, Default)]
pub struct Context {
    stack_pointer: u64,
    resume_address: u64,
    rbx: u64,
    rbp: u64,
    r12: u64,
    r13: u64,
    r14: u64,
    r15: u64,
}

/// RFLAGS in user mode: interrupts enabled (bit 9) and the always-one bit 1.
pub const USER_FLAGS: u64 = (1 << 9) | (1 << 1);

extern "C" {
    fn x86_64_switch_context(from: *mut Context, to: *const Context);
    fn x86_64_context_start() -> !;
    fn x86_64_enter_user(entry: u64, user_stack: u64, argument: u64) -> !;
}

/// Prepares `context` to run `entry(argument)` on the stack whose top is `stack_top`.
pub fn initialize(
    context: &mut Context,
    stack_top: u64,
    entry: extern "C" fn(usize) -> !,
    argument: usize,
) {
    *context = Context {
        stack_pointer: stack_top & !0xF,
        resume_address: x86_64_context_start as *const () as u64,
        r12: entry as *const () as u64,
        r13: argument as u64,
        ..Context::default()
    };
}

/// Saves the running thread into `from` and resumes `to`.
///
/// # Safety
/// Both pointers must be valid; `to` must have been initialized or saved by a switch, and its
/// stack must still be mapped and unused by anyone else.
pub unsafe fn switch(from: *mut Context, to: *const Context) {
    // SAFETY: guaranteed by the caller; the callee saves and restores every register the
    // System V ABI makes it preserve, so to the caller this is an ordinary call.
    unsafe { x86_64_switch_context(from, to) }
}

/// Leaves for user mode at `entry` with stack `user_stack`, `argument` in rdi and every other
/// register zero, interrupts enabled.
///
/// # Safety
/// `entry` and `user_stack` must be canonical lower-half addresses that the active root maps
/// for user mode, and the kernel stack traps will use must already be set.
pub unsafe fn enter_user(entry: u64, user_stack: u64, argument: u64) -> ! {
    // SAFETY: guaranteed by the caller; the stub builds an `iretq` frame on this stack, which
    // is abandoned.
    unsafe { x86_64_enter_user(entry, user_stack, argument) }
}

// Hand-written because no crate covers it: a context switch saves and restores callee-saved
// registers and the stack pointer, and the first entry to user mode builds an `iretq` frame.
global_asm!(
    r#"
    .text
    .global x86_64_switch_context
    x86_64_switch_context:
        movq %rsp, {stack_pointer}(%rdi)
        leaq 1f(%rip), %rax
        movq %rax, {resume_address}(%rdi)
        movq %rbx, {rbx}(%rdi)
        movq %rbp, {rbp}(%rdi)
        movq %r12, {r12}(%rdi)
        movq %r13, {r13}(%rdi)
        movq %r14, {r14}(%rdi)
        movq %r15, {r15}(%rdi)
        movq {rbx}(%rsi), %rbx
        movq {rbp}(%rsi), %rbp
        movq {r12}(%rsi), %r12
        movq {r13}(%rsi), %r13
        movq {r14}(%rsi), %r14
        movq {r15}(%rsi), %r15
        movq {stack_pointer}(%rsi), %rsp
        jmpq *{resume_address}(%rsi)
    1:  retq

    .global x86_64_context_start
    x86_64_context_start:
        cli
        movq %r13, %rdi
        xorl %ebp, %ebp
        callq *%r12
        ud2

    .global x86_64_enter_user
    x86_64_enter_user:
        cli
        pushq ${user_data}
        pushq %rsi
        pushq ${user_flags}
        pushq ${user_code}
        pushq %rdi
        movq %rdx, %rdi
        xorl %eax, %eax
        xorl %ebx, %ebx
        xorl %ecx, %ecx
        xorl %edx, %edx
        xorl %esi, %esi
        xorl %ebp, %ebp
        xorl %r8d, %r8d
        xorl %r9d, %r9d
        xorl %r10d, %r10d
        xorl %r11d, %r11d
        xorl %r12d, %r12d
        xorl %r13d, %r13d
        xorl %r14d, %r14d
        xorl %r15d, %r15d
        swapgs
        iretq
    "#,
    stack_pointer = const offset_of!(Context, stack_pointer),
    resume_address = const offset_of!(Context, resume_address),
    rbx = const offset_of!(Context, rbx),
    rbp = const offset_of!(Context, rbp),
    r12 = const offset_of!(Context, r12),
    r13 = const offset_of!(Context, r13),
    r14 = const offset_of!(Context, r14),
    r15 = const offset_of!(Context, r15),
    user_data = const USER_DATA as u64,
    user_code = const USER_CODE as u64,
    user_flags = const USER_FLAGS,
    options(att_syntax)
);
