//! Placeholders for the three hooks the arch crates call from user mode, until the real
//! system-call, scheduler and fault code replaces them.
//!
//! The arch crates declare `kernel_system_call`, `kernel_timer_tick` and `kernel_user_fault`
//! (`kernel_core::user_mode`) and reach them from their trap paths, so the kernel must
//! define them to link. Nothing enters user mode or starts the timer yet, so none of these
//! can run; each panics if one does. The frame is taken as an opaque pointer (the same
//! calling convention as `&mut UserFrame`) so this file builds for every CPU.

use kernel_core::Fault;

/// A user thread's frame, opaque here.
pub struct OpaqueFrame;

/// Placeholder for the system-call hook.
#[no_mangle]
pub fn kernel_system_call(_frame: &mut OpaqueFrame) {
    panic!("kernel_system_call: not yet implemented");
}

/// Placeholder for the timer-tick hook.
#[no_mangle]
pub fn kernel_timer_tick() {
    panic!("kernel_timer_tick: not yet implemented");
}

/// Placeholder for the user-fault hook.
#[no_mangle]
pub fn kernel_user_fault(_frame: &mut OpaqueFrame, fault: Fault) {
    panic!(
        "kernel_user_fault ({} at {:#x}): not yet implemented",
        fault.cause, fault.address
    );
}
