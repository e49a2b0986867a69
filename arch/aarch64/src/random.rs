//! RNDR (FEAT_RNG, Armv8.5): the CPU's hardware random generator, behind
//! `Arch::hardware_random`.
//!
//! Present when ID_AA64ISAR0_EL1.RNDR (bits [63:60]) is non-zero. QEMU's `-cpu max` (the
//! harness's TCG model) has it; `cortex-a72` has none, and the kernel then falls back to its
//! jitter-seeded pool. A read sets NZCV.Z on failure (the generator could not produce a value
//! in reasonable time); retry a few times, then report failure.

use core::arch::asm;
use core::sync::atomic::{AtomicU8, Ordering};

/// Tries per word before reporting failure.
const RETRIES: usize = 10;

/// 0: not probed yet, 1: absent, 2: present.
static PRESENT: AtomicU8 = AtomicU8::new(0);

/// Whether this CPU has RNDR (ID register probed once).
pub fn present() -> bool {
    match PRESENT.load(Ordering::Relaxed) {
        0 => {
            let isar0: u64;
            // SAFETY: reading an ID register at EL1 has no side effect.
            unsafe {
                asm!("mrs {}, id_aa64isar0_el1", out(reg) isar0, options(nomem, nostack, preserves_flags))
            };
            let has = isar0 >> 60 != 0;
            PRESENT.store(if has { 2 } else { 1 }, Ordering::Relaxed);
            has
        }
        state => state == 2,
    }
}

/// One RNDR word, or `None` when absent or every retry failed.
pub fn word() -> Option<u64> {
    if !present() {
        return None;
    }
    for _ in 0..RETRIES {
        let value: u64;
        let failed: u64;
        // SAFETY: RNDR (present, checked above; encoded as s3_3_c2_c4_0 so no assembler
        // feature is needed) writes only its register and NZCV.
        unsafe {
            asm!("mrs {value}, s3_3_c2_c4_0", "cset {failed}, eq",
                 value = out(reg) value, failed = out(reg) failed, options(nomem, nostack));
        }
        if failed == 0 {
            return Some(value);
        }
    }
    None
}
