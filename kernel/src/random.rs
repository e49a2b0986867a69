//! The kernel's random bytes, served as `sys:random` (see `schemes::sys`).
//!
//! One `kernel_core::random::Pool` behind a spin lock. Sources, all mixed in, none returned
//! as is: the CPU's hardware generator (`Arch::hardware_random`: RDRAND on x86_64, RNDR on
//! aarch64) one word per output word; the counter at kernel entry and around device
//! discovery ([`stir`]); and the timer-tick jitter every CPU folds into [`JITTER`] without a
//! lock ([`note_tick`]), absorbed at each fill. Without a hardware source the bytes are not
//! cryptographically strong (the pool's module doc says why).

use crate::arch::{Arch, Cpu};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel_core::random::Pool;
use kernel_core::user_mode::UserMode;
use spin::Mutex;

/// Most bytes one open of `sys:random` yields.
pub const MAX_BYTES: usize = 256;

static POOL: Mutex<Pool> = Mutex::new(Pool::new());

/// Timer-tick arrival counters, folded together lock-free on every tick.
static JITTER: AtomicU64 = AtomicU64::new(0);

/// Mixes the counter (and `extra`, e.g. a stage marker) into the pool: boot-time jitter.
pub fn stir(extra: u64) {
    let mut pool = POOL.lock();
    pool.absorb(Cpu::counter_ticks());
    pool.absorb(extra);
}

/// Folds this tick's counter reading into the jitter word (interrupt context; no lock).
pub fn note_tick() {
    let ticks = Cpu::counter_ticks();
    let _ = JITTER.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
        Some(old.rotate_left(7) ^ ticks.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    });
}

/// Fills `bytes` (callers bound it by [`MAX_BYTES`]) from the pool, after absorbing the
/// counter and the tick jitter, with one hardware word mixed in per output word.
pub fn fill(bytes: &mut [u8]) {
    let mut pool = POOL.lock();
    pool.absorb(Cpu::counter_ticks());
    pool.absorb(JITTER.load(Ordering::Relaxed));
    pool.fill(bytes, Cpu::hardware_random);
}

/// The source named in the boot log.
pub fn source() -> &'static str {
    Cpu::hardware_random_name().unwrap_or("counter-jitter (not cryptographically strong)")
}
