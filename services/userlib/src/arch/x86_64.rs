//! x86_64 user-mode specifics: `_start` and the TSC.

use crate::cycles::Scale;

/// The process entry point: `rdi` holds the argument block's address.
///
/// # Safety
///
/// Only the kernel enters it, once, as the `start` module describes.
#[cfg(target_os = "none")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _start() -> ! {
    // The stack is 16-byte aligned here; `call` pushes 8 bytes, which is the alignment the
    // System V ABI expects on a function's entry. `rdi` passes through untouched.
    core::arch::naked_asm!("xor ebp, ebp", "call {start}", "ud2", start = sym crate::start::bare_metal::start)
}

/// The time-stamp counter, after earlier instructions finish.
pub fn counter_now() -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: `lfence` waits for earlier instructions and `rdtsc` reads a counter the kernel
    // lets user mode read (CR4.TSD clear); neither writes memory. The block is not marked
    // `nomem`, so the compiler treats it as a barrier for memory accesses.
    unsafe {
        core::arch::asm!("lfence", "rdtsc", out("eax") low, out("edx") high, options(nostack));
    }
    (u64::from(high) << 32) | u64::from(low)
}

/// One step of a spin-wait: `pause` (`core::hint::spin_loop`). Under QEMU's round-robin
/// TCG (one host thread for every CPU, as with `-icount`) `pause` ends this CPU's turn, so
/// the CPU the spinner waits for runs at once instead of after a whole time slice.
pub fn spin_hint() {
    core::hint::spin_loop();
}

/// A loop of exactly `2 * iterations` instructions (`dec` and `jnz` per iteration).
#[inline(never)]
pub fn spin_instructions(iterations: u64) {
    // SAFETY: register arithmetic and a local branch; no memory, no stack.
    unsafe {
        core::arch::asm!(
            "2:",
            "dec {n}",
            "jnz 2b",
            n = inout(reg) iterations => _,
            options(nomem, nostack)
        );
    }
}

/// TSC ticks are cycles.
pub fn counter_scale() -> Scale {
    Scale::one_to_one("tsc")
}

/// Orders this CPU's earlier writes to DMA memory before its later writes, device
/// registers included: `sfence` drains the write-combining buffers, which ordinary x86
/// store ordering does not cover (Linux's `wmb`).
pub fn dma_write_barrier() {
    // SAFETY: a fence instruction; it touches no memory and changes no register. Not
    // `nomem`, so the compiler keeps memory accesses on their side of it too.
    unsafe { core::arch::asm!("sfence", options(nostack, preserves_flags)) };
}

/// Orders this CPU's earlier reads before its later reads of DMA memory: `lfence`, since
/// reads of write-combining memory may be speculative and out of order.
pub fn dma_read_barrier() {
    // SAFETY: as in `dma_write_barrier`.
    unsafe { core::arch::asm!("lfence", options(nostack, preserves_flags)) };
}
