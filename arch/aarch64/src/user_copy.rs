//! Copies to and from user memory that survive the memory going away: an exception table.
//!
//! `user_copy_bytes(destination, source, length)` copies eight bytes at a time while both
//! pointers allow it and then byte by byte; every load and store is a labelled instruction
//! listed in [`table`]. It returns the bytes left uncopied (0 on success). If one of those
//! accesses takes a data abort (a page another thread of the process unmapped, a revoked
//! mapping, a read-only page), the trap handler ([`recover`]) resumes at
//! `user_copy_fixup`, which returns the count still left in x2 — never zero, since the
//! faulting access did not complete. A kernel-mode abort anywhere else is still fatal.
//!
//! PAN is not enabled (SCTLR_EL1.SPAN is 1 and PSTATE.PAN is never set); were it turned
//! on, this routine is the one place that would clear it around the copy.

use crate::trap::TrapFrame;
use core::arch::global_asm;
use core::ptr::addr_of;
use core::sync::atomic::{AtomicU64, Ordering};

extern "C" {
    fn user_copy_bytes(destination: *mut u8, source: *const u8, length: usize) -> usize;
    static user_copy_load_word: u8;
    static user_copy_store_word: u8;
    static user_copy_load_byte: u8;
    static user_copy_store_byte: u8;
    static user_copy_fixup: u8;
}

// Hand-written: each access that may fault sits at a label the trap handler knows. x0 is
// the destination, x1 the source, x2 the bytes left (the return value on a fault).
global_asm!(
    r#"
    .text
    .global user_copy_bytes
    user_copy_bytes:
        orr x3, x0, x1
        tst x3, #7
        b.ne 2f
    1:
        cmp x2, #8
        b.lo 2f
    .global user_copy_load_word
    user_copy_load_word:
        ldr x4, [x1]
    .global user_copy_store_word
    user_copy_store_word:
        str x4, [x0]
        add x0, x0, #8
        add x1, x1, #8
        sub x2, x2, #8
        b 1b
    2:
        cbz x2, 3f
    .global user_copy_load_byte
    user_copy_load_byte:
        ldrb w4, [x1]
    .global user_copy_store_byte
    user_copy_store_byte:
        strb w4, [x0]
        add x0, x0, #1
        add x1, x1, #1
        sub x2, x2, #1
        b 2b
    3:
    .global user_copy_fixup
    user_copy_fixup:
        mov x0, x2
        ret
    "#
);

/// The exception table: (faulting instruction, where to resume).
fn table() -> [(u64, u64); 4] {
    let fixup = addr_of!(user_copy_fixup) as u64;
    [
        (addr_of!(user_copy_load_word) as u64, fixup),
        (addr_of!(user_copy_store_word) as u64, fixup),
        (addr_of!(user_copy_load_byte) as u64, fixup),
        (addr_of!(user_copy_store_byte) as u64, fixup),
    ]
}

/// How many user copies faulted and were recovered since boot.
static RECOVERED: AtomicU64 = AtomicU64::new(0);

/// Copies `length` bytes; `false` if an access faulted (some bytes may have been copied).
///
/// # Safety
/// `destination` and `source` must not overlap; each is either kernel memory valid for
/// `length` bytes or user-half memory of the active space (which may fault: recovered).
pub unsafe fn copy(destination: *mut u8, source: *const u8, length: usize) -> bool {
    if length == 0 {
        return true;
    }
    // SAFETY: as the caller promises; a fault inside is recovered by `recover`.
    let left = unsafe { user_copy_bytes(destination, source, length) };
    left == 0
}

/// Recovered user-copy faults since boot.
pub fn recovered() -> u64 {
    RECOVERED.load(Ordering::Relaxed)
}

/// Called by the trap handler for a synchronous exception in the kernel: if it is at an
/// instruction of the exception table and is a data abort, resume at its fixup and return
/// `true`.
pub fn recover(frame: &mut TrapFrame) -> bool {
    let class = crate::fault::exception_class(frame.esr);
    if class != DATA_ABORT_CURRENT {
        return false;
    }
    let Some(&(_, fixup)) = table().iter().find(|(at, _)| *at == frame.elr) else {
        return false;
    };
    RECOVERED.fetch_add(1, Ordering::Relaxed);
    frame.elr = fixup;
    true
}

/// ESR_EL1.EC for a data abort taken without a change in exception level.
const DATA_ABORT_CURRENT: u64 = 0x25;
