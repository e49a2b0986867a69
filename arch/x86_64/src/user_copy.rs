//! Copies to and from user memory that survive the memory going away: an exception table.
//!
//! `user_copy_bytes(destination, source, length)` copies with one `rep movsb` at the
//! labelled instruction `user_copy_move`; it returns the bytes left uncopied (RCX), 0 on
//! success. If the move faults (a page another thread of the process unmapped, a revoked
//! mapping, a read-only page: CR0.WP makes the kernel's writes obey it), the trap handler
//! ([`recover`]) finds the instruction in [`TABLE`] and resumes at its fixup,
//! `user_copy_fixup`, which returns what RCX says is left — never zero, since the faulting
//! byte was not copied. A kernel-mode fault anywhere else is still fatal.
//!
//! SMAP is not enabled (CR4.SMAP stays clear, see `cpu::configure`); were it turned on, this
//! routine is the one place that would wrap the move in `stac`/`clac`.

use crate::trap::TrapFrame;
use core::arch::global_asm;
use core::ptr::addr_of;
use core::sync::atomic::{AtomicU64, Ordering};

extern "C" {
    fn user_copy_bytes(destination: *mut u8, source: *const u8, length: usize) -> usize;
    static user_copy_move: u8;
    static user_copy_fixup: u8;
}

// Hand-written: the faulting instruction and its fixup must sit at labels the trap handler
// knows. `rep movsb` is restartable: on a fault RCX holds the bytes not yet moved.
global_asm!(
    r#"
    .text
    .global user_copy_bytes
    user_copy_bytes:
        movq %rdx, %rcx
    .global user_copy_move
    user_copy_move:
        rep movsb
    .global user_copy_fixup
    user_copy_fixup:
        movq %rcx, %rax
        retq
    "#,
    options(att_syntax)
);

/// The exception table: (faulting instruction, where to resume).
fn table() -> [(u64, u64); 1] {
    [(
        addr_of!(user_copy_move) as u64,
        addr_of!(user_copy_fixup) as u64,
    )]
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

/// Called by the trap handler for a kernel-mode fault: if it is at an instruction of the
/// exception table, resume at its fixup and return `true`.
pub fn recover(frame: &mut TrapFrame) -> bool {
    let Some(&(_, fixup)) = table().iter().find(|(at, _)| *at == frame.rip) else {
        return false;
    };
    RECOVERED.fetch_add(1, Ordering::Relaxed);
    frame.rip = fixup;
    true
}
