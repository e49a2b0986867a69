//! GICv2m: a frame that turns a PCI function's MSI write into a shared peripheral interrupt.
//!
//! A device writes the SPI's number to the frame's `MSI_SETSPI_NS` register (frame + 0x040)
//! and the distributor sees an edge on that SPI. The frame's `MSI_TYPER` (frame + 0x008)
//! says which SPIs it serves: bits 25..16 the first, bits 9..0 how many. QEMU `virt` with
//! GICv2 has one frame (the device tree's `arm,gic-v2m-frame` node); with GICv3 it has an
//! ITS instead, which the kernel does not drive, so PCI functions there use INTx.
//!
//! SPIs are handed out once, in order, never returned: one per connected PCI function, and
//! the kernel connects each at most once per boot.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel_core::user_mode::MapDevice;

/// `MSI_TYPER`'s offset: the SPIs the frame serves.
const MSI_TYPER: u64 = 0x008;
/// `MSI_SETSPI_NS`'s offset: the doorbell a device writes the SPI number to.
pub const MSI_SETSPI_NS: u64 = 0x040;

/// The frame's physical base (0: none).
static FRAME: AtomicU64 = AtomicU64::new(0);
/// The next SPI to hand out and the first one past the frame's range (equal: none left).
static NEXT: AtomicU32 = AtomicU32::new(0);
static END: AtomicU32 = AtomicU32::new(0);

/// Records the frame the machine description found (`None`: no MSI on this machine).
pub fn configure(frame: Option<(u64, u64)>) {
    FRAME.store(frame.map_or(0, |(base, _)| base), Ordering::Relaxed);
}

/// Maps the frame and reads which SPIs it serves. Called with the GICv2 bring-up.
pub fn init(map_device: MapDevice) {
    let base = FRAME.load(Ordering::Relaxed);
    if base == 0 {
        return;
    }
    let mapped = map_device(base, 0x1000);
    // SAFETY: `mapped` is a device mapping of the frame's first page, which holds
    // `MSI_TYPER` (an aligned, read-only 32-bit register).
    let typer = unsafe { ((mapped + MSI_TYPER) as *const u32).read_volatile() };
    let (first, count) = spis(typer);
    NEXT.store(first, Ordering::Relaxed);
    END.store(first + count, Ordering::Relaxed);
}

/// `MSI_TYPER`'s fields: (first SPI, number of SPIs).
pub fn spis(typer: u32) -> (u32, u32) {
    ((typer >> 16) & 0x3ff, typer & 0x3ff)
}

/// Takes the next free SPI of the frame: (its id, the doorbell's physical address). `None`
/// without a frame or once they are all taken.
pub fn take() -> Option<(u32, u64)> {
    let base = FRAME.load(Ordering::Relaxed);
    if base == 0 {
        return None;
    }
    let end = END.load(Ordering::Relaxed);
    let id = NEXT
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |next| {
            (next < end).then_some(next + 1)
        })
        .ok()?;
    Some((id, base + MSI_SETSPI_NS))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_qemu_virt_msi_typer() {
        // QEMU `virt`: 64 SPIs from 80.
        assert_eq!(super::spis(80 << 16 | 64), (80, 64));
    }
}
