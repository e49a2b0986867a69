//! Reading memory that may fault: a one-instruction exception table.
//!
//! `probe_read_u64` loads from its argument at the labelled instruction `probe_read_load`.
//! If that instruction takes a data abort, the trap handler ([`recover`]) records the fault,
//! makes the function return "faulted" and resumes at `probe_read_done`, instead of
//! reporting a fatal exception. Only that one instruction is covered.

use crate::trap::TrapFrame;
use core::arch::global_asm;
use core::ptr::addr_of;
use kernel_core::Fault;
use spin::Mutex;

/// What `probe_read_u64` returns: the value (x0) and whether it faulted (x1).
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

// Hand-written: the probe's load and its resume label must be known to the fault handler.
global_asm!(
    r#"
    .text
    .global probe_read_u64
    probe_read_u64:
        mov x1, #0
    .global probe_read_load
    probe_read_load:
        ldr x0, [x0]
    .global probe_read_done
    probe_read_done:
        ret
    "#
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

/// Called by the trap handler for synchronous exceptions: if the faulting instruction is
/// the probe's load, record the fault, arrange for the probe to return "faulted", and
/// return `true`.
pub fn recover(frame: &mut TrapFrame, cause: &'static str) -> bool {
    if frame.elr != addr_of!(probe_read_load) as u64 {
        return false;
    }
    *LAST_FAULT.lock() = Some(Fault {
        address: frame.far,
        cause,
    });
    frame.registers[0] = 0;
    frame.registers[1] = 1;
    frame.elr = addr_of!(probe_read_done) as u64;
    true
}
