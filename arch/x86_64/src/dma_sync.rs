//! The x86_64 side of `SYS_DMA_SYNC`: a fence and nothing else.
//!
//! DMA on x86_64 is cache-coherent: devices' reads snoop the CPU's caches and their writes
//! invalidate them, whatever the page's memory type, so no line ever needs cleaning or
//! invalidating for a device (`clflush` would only cost time). What a sync still owes is
//! ordering: `mfence` drains the store buffer and write-combining buffers, so everything
//! written before the sync is visible to a device that starts after it, and no load after
//! it runs early.

/// No line needs maintenance: x86 DMA snoops the caches.
pub const LINE: u64 = 64;

/// `mfence`.
pub fn barrier() {
    // SAFETY: a fence has no operands and no effect but ordering.
    unsafe { core::arch::asm!("mfence", options(nostack, preserves_flags)) };
}
