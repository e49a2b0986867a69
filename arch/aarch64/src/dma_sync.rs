//! Cache maintenance for DMA by virtual address: the aarch64 side of `SYS_DMA_SYNC`.
//!
//! The data-cache line comes from `CTR_EL0.DminLine` (the smallest line of any data cache,
//! as Linux's `dcache_line_size`). Cleaning is `dc cvac`, invalidating `dc ivac`, both to the
//! point of coherency (where devices look); lines only partly in a `ForCpu` range get
//! `dc civac` so the bytes around the range survive. These run at EL1 on the caller's user
//! addresses, which the kernel checked are mapped (and writable where it invalidates) while
//! it holds the kernel lock, so nothing can unmap them meanwhile; PAN is off (see
//! `user_copy`). `dsb sy` ([`barrier`]) waits for all of it.

use core::arch::asm;
use kernel_core::dma_sync::{LinePlan, SyncDirection};

/// The smallest data-cache line in bytes: 4 << `CTR_EL0.DminLine` (bits 16..20).
pub fn line() -> u64 {
    let ctr: u64;
    // SAFETY: reading CTR_EL0 has no side effect.
    unsafe { asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack, preserves_flags)) };
    4 << ((ctr >> 16) & 0xf)
}

/// Runs `plan` for `direction`.
///
/// # Safety
/// See `kernel_core::Arch::dma_sync_lines`.
pub unsafe fn run(plan: &LinePlan, direction: SyncDirection) {
    for line in plan.clean_invalidate.iter().flatten() {
        // SAFETY: the caller keeps every line of the plan mapped (writable) in the active
        // space; clean-and-invalidate never changes what memory holds as the program sees it.
        unsafe { asm!("dc civac, {}", in(reg) *line, options(nostack, preserves_flags)) };
    }
    for line in plan.body_lines() {
        match direction {
            // SAFETY: as above; cleaning writes dirty data back and changes nothing else.
            SyncDirection::ToDevice => unsafe {
                asm!("dc cvac, {}", in(reg) line, options(nostack, preserves_flags))
            },
            // SAFETY: as above; the line lies wholly inside the caller's writable range,
            // whose contents the caller handed to the device (the plan keeps partial lines
            // out of the body).
            SyncDirection::ForCpu => unsafe {
                asm!("dc ivac, {}", in(reg) line, options(nostack, preserves_flags))
            },
            // SAFETY: as for the partial lines.
            SyncDirection::Bidirectional => unsafe {
                asm!("dc civac, {}", in(reg) line, options(nostack, preserves_flags))
            },
        }
    }
}

/// `dsb sy`: every cache operation and memory access before it is complete, for devices too.
pub fn barrier() {
    // SAFETY: a barrier has no operands and no effect but ordering.
    unsafe { asm!("dsb sy", options(nostack, preserves_flags)) };
}
