//! RDRAND: the CPU's hardware random generator, behind `Arch::hardware_random`.
//!
//! Present when CPUID.1:ECX bit 30 is set (QEMU's `-cpu max` offers it under TCG, backed by
//! the host's random source). Intel's guidance: a failure (carry clear) is transient, so
//! retry up to 10 times before giving up on this word.

use core::arch::asm;
use core::sync::atomic::{AtomicU8, Ordering};

/// CPUID.1:ECX: RDRAND supported.
const CPUID_RDRAND: u32 = 1 << 30;
/// Tries per word before reporting failure (Intel's recommendation).
const RETRIES: usize = 10;

/// 0: not probed yet, 1: absent, 2: present.
static PRESENT: AtomicU8 = AtomicU8::new(0);

/// Whether this CPU has RDRAND (CPUID probed once).
pub fn present() -> bool {
    match PRESENT.load(Ordering::Relaxed) {
        0 => {
            let has = core::arch::x86_64::__cpuid(1).ecx & CPUID_RDRAND != 0;
            PRESENT.store(if has { 2 } else { 1 }, Ordering::Relaxed);
            has
        }
        state => state == 2,
    }
}

/// One RDRAND word, or `None` when absent or every retry failed.
pub fn word() -> Option<u64> {
    if !present() {
        return None;
    }
    for _ in 0..RETRIES {
        let value: u64;
        let ok: u8;
        // SAFETY: RDRAND (present, checked above) writes only its register and the flags.
        unsafe {
            asm!("rdrand {value}", "setc {ok}", value = out(reg) value, ok = out(reg_byte) ok,
                 options(nomem, nostack));
        }
        if ok != 0 {
            return Some(value);
        }
    }
    None
}
