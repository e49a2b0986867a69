//! Reading memory that may fault: a one-instruction exception table.
//!
//! `probe_read_u64` loads from its argument at the labelled instruction `probe_read_load`.
//! If that instruction faults, the trap handler ([`recover`]) records the fault, makes the
//! function return "faulted" and resumes at `probe_read_done`, instead of reporting a fatal
//! exception. Only that one instruction is covered.

use crate::trap::TrapFrame;
use core::arch::global_asm;
use core::ptr::addr_of;
use kernel_core::Fault;
use spin::Mutex;

/// What `probe_read_u64` returns: the value (RAX) and whether it faulted (RDX).
#[repr(C)]
struct ProbeResult {
    value: u64,
    faulted: u64,
}

extern "C" {
    fn probe_read_u64(address: u64) -> ProbeResult;
    static probe_read_load: u8;
    static probe_read_done: u8;
}

// Hand-written because no crate covers it: the exception table needs the one faulting load
// at a known, labelled address that the trap handler can recognise and skip.
global_asm!(
    r#"
    .text
    .global probe_read_u64
    probe_read_u64:
        xorl %edx, %edx
    .global probe_read_load
    probe_read_load:
        movq (%rdi), %rax
    .global probe_read_done
    probe_read_done:
        retq
    "#,
    options(att_syntax)
);

static LAST_FAULT: Mutex<Option<Fault>> = Mutex::new(None);

/// Reads 8 bytes at `address`, returning the fault instead of dying on it.
pub fn read(address: u64) -> Result<u64, Fault> {
    // SAFETY: `probe_read_u64` either loads the value or, if the load faults, is resumed by
    // `recover` with `faulted` set; it touches nothing else.
    let result = unsafe { probe_read_u64(address) };
    if result.faulted == 0 {
        Ok(result.value)
    } else {
        Err(LAST_FAULT.lock().take().unwrap_or(Fault {
            address,
            cause: "fault",
        }))
    }
}

/// Called by the trap handler: if the faulting instruction is the probe's load, record the
/// fault, arrange for the probe to return "faulted", and return `true`.
pub fn recover(frame: &mut TrapFrame, address: u64, cause: &'static str) -> bool {
    if frame.rip != addr_of!(probe_read_load) as u64 {
        return false;
    }
    *LAST_FAULT.lock() = Some(Fault { address, cause });
    frame.rax = 0;
    frame.rdx = 1;
    frame.rip = addr_of!(probe_read_done) as u64;
    true
}
