//! User mode (EL0): entering it, and handing its system calls and faults to the kernel.
//!
//! A user thread's registers live in its [`UserFrame`] on its kernel stack while the kernel
//! runs. System calls follow Redox: number in x8, arguments in x0..x5, result in x0.

use crate::fault;
use crate::trap::TrapFrame;
use core::arch::global_asm;
use kernel_core::user_mode::UserRegisters;
use kernel_core::Fault;

/// A user thread's registers as saved on its kernel stack: the full [`TrapFrame`].
pub type UserFrame = TrapFrame;

/// Register holding the system call number.
const NUMBER_REGISTER: usize = 8;
/// How many argument registers a system call has (x0..x5).
const ARGUMENT_COUNT: usize = 6;

extern "Rust" {
    /// The kernel's system-call hook (`kernel_core::user_mode`).
    fn kernel_system_call(frame: &mut UserFrame);
    /// The kernel's user-fault hook (`kernel_core::user_mode`).
    fn kernel_user_fault(frame: &mut UserFrame, fault: Fault);
}

impl UserRegisters for TrapFrame {
    fn system_call_number(&self) -> usize {
        self.registers[NUMBER_REGISTER] as usize
    }

    /// # Panics
    /// If `index` is 6 or more: system calls have six arguments.
    fn system_call_argument(&self, index: usize) -> usize {
        assert!(
            index < ARGUMENT_COUNT,
            "system call argument {index} does not exist"
        );
        self.registers[index] as usize
    }

    fn set_system_call_result(&mut self, value: usize) {
        self.registers[0] = value as u64;
    }

    fn instruction_pointer(&self) -> u64 {
        self.elr
    }

    fn stack_pointer(&self) -> u64 {
        self.sp_el0
    }
}

/// A synchronous exception from EL0: `svc` is a system call, anything else a user fault.
pub(crate) fn synchronous(frame: &mut UserFrame) {
    if fault::exception_class(frame.esr) == fault::EXCEPTION_CLASS_SVC64 {
        // SAFETY: the kernel defines this hook with exactly this signature (the user-mode
        // contract); ELR already points after the `svc`.
        unsafe { kernel_system_call(frame) };
    } else {
        let fault = Fault {
            address: fault::user_fault_address(frame.esr, frame.far, frame.elr),
            cause: fault::user_fault_cause(frame.esr),
        };
        // SAFETY: as above.
        unsafe { kernel_user_fault(frame, fault) };
    }
}

extern "C" {
    /// Leaves for EL0; see [`enter`].
    fn aarch64_enter_user(entry: u64, user_stack: u64, argument: u64, kernel_stack_top: u64) -> !;
}

/// Enters user mode at `entry` with SP_EL0 = `user_stack`, x0 = `argument`, every other
/// general, FP/SIMD and thread-pointer register zero, FPCR/FPSR zero, and SPSR = EL0t with
/// D, A, I and F clear. `sp` becomes `kernel_stack_top` (rounded down to 16) first, so that
/// is SP_EL1 in user mode and the next trap from EL0 builds its frame at the top of this
/// thread's kernel stack.
///
/// # Safety
/// The active user root maps `entry` executable and the stack writable for EL0, and
/// `kernel_stack_top` is the top of this thread's kernel stack, which nothing else uses.
pub unsafe fn enter(entry: u64, user_stack: u64, argument: u64, kernel_stack_top: u64) -> ! {
    // SAFETY: the caller guarantees the user mappings and the kernel stack.
    unsafe { aarch64_enter_user(entry, user_stack, argument, kernel_stack_top) }
}

// Hand-written: entering and returning to EL0 (`eret` with a saved frame) is no crate's job.
global_asm!(
    r#"
    .text
    .global aarch64_enter_user
    aarch64_enter_user:
        msr daifset, #0xf
        and x3, x3, #0xfffffffffffffff0
        mov sp, x3
        msr sp_el0, x1
        msr elr_el1, x0
        msr spsr_el1, xzr
        msr tpidr_el0, xzr
        msr fpcr, xzr
        msr fpsr, xzr
        movi v0.2d, #0
        movi v1.2d, #0
        movi v2.2d, #0
        movi v3.2d, #0
        movi v4.2d, #0
        movi v5.2d, #0
        movi v6.2d, #0
        movi v7.2d, #0
        movi v8.2d, #0
        movi v9.2d, #0
        movi v10.2d, #0
        movi v11.2d, #0
        movi v12.2d, #0
        movi v13.2d, #0
        movi v14.2d, #0
        movi v15.2d, #0
        movi v16.2d, #0
        movi v17.2d, #0
        movi v18.2d, #0
        movi v19.2d, #0
        movi v20.2d, #0
        movi v21.2d, #0
        movi v22.2d, #0
        movi v23.2d, #0
        movi v24.2d, #0
        movi v25.2d, #0
        movi v26.2d, #0
        movi v27.2d, #0
        movi v28.2d, #0
        movi v29.2d, #0
        movi v30.2d, #0
        movi v31.2d, #0
        mov x0, x2
        mov x1, xzr
        mov x2, xzr
        mov x3, xzr
        mov x4, xzr
        mov x5, xzr
        mov x6, xzr
        mov x7, xzr
        mov x8, xzr
        mov x9, xzr
        mov x10, xzr
        mov x11, xzr
        mov x12, xzr
        mov x13, xzr
        mov x14, xzr
        mov x15, xzr
        mov x16, xzr
        mov x17, xzr
        mov x18, xzr
        mov x19, xzr
        mov x20, xzr
        mov x21, xzr
        mov x22, xzr
        mov x23, xzr
        mov x24, xzr
        mov x25, xzr
        mov x26, xzr
        mov x27, xzr
        mov x28, xzr
        mov x29, xzr
        mov x30, xzr
        eret
    "#
);
