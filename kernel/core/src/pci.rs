//! PCI configuration-space facts and arithmetic: ECAM addresses, header offsets, BAR decoding.
//!
//! The kernel reads a function's 4 KiB configuration page through the PCI Express enhanced
//! configuration access mechanism (ECAM) and turns base address registers into physical
//! ranges here, in pure functions the host tests exercise.

mod assign;
#[cfg(test)]
mod tests;

pub use assign::{Assignment, BarAllocator, SPACE_MEMORY_32};

/// Bytes of one function's configuration page.
pub const CONFIG_PAGE_SIZE: u64 = 4096;
/// Devices per bus.
pub const DEVICES_PER_BUS: u8 = 32;
/// Functions per device.
pub const FUNCTIONS_PER_DEVICE: u8 = 8;
/// Bytes of ECAM one bus takes (32 devices × 8 functions × 4 KiB).
pub const BUS_SIZE: u64 = 1 << 20;

/// Offset of the vendor ID (16 bits; 0xffff = no function).
pub const VENDOR_ID: usize = 0x00;
/// Offset of the device ID (16 bits).
pub const DEVICE_ID: usize = 0x02;
/// Offset of the command register (16 bits).
pub const COMMAND: usize = 0x04;
/// Offset of the header type (8 bits; bit 7 = multi-function device).
pub const HEADER_TYPE: usize = 0x0e;
/// Offset of the class code's base class (8 bits).
pub const CLASS: usize = 0x0b;
/// Offset of the first base address register.
pub const BAR0: usize = 0x10;
/// Offset of a bridge's secondary bus number (8 bits, header type 1).
pub const SECONDARY_BUS: usize = 0x19;
/// Offset of the interrupt line the firmware assigned (8 bits; 0xff = none).
pub const INTERRUPT_LINE: usize = 0x3c;
/// Offset of the legacy interrupt pin the function uses (8 bits; 0 none, 1..4 INTA..INTD).
pub const INTERRUPT_PIN: usize = 0x3d;

/// Command bit: the function answers I/O-space accesses to its BARs.
pub const COMMAND_IO_SPACE: u16 = 1 << 0;
/// Command bit: the function answers memory-space accesses to its BARs.
pub const COMMAND_MEMORY_SPACE: u16 = 1 << 1;
/// Command bit: the function may master the bus (needed for DMA).
pub const COMMAND_BUS_MASTER: u16 = 1 << 2;

/// Vendor ID of virtio devices.
pub const VIRTIO_VENDOR: u16 = 0x1af4;
/// Device ID of a transitional virtio block device.
pub const VIRTIO_BLOCK_TRANSITIONAL: u16 = 0x1001;
/// Device ID of a modern (virtio 1.0) block device.
pub const VIRTIO_BLOCK_MODERN: u16 = 0x1042;

/// Vendor ID of QEMU's `edu` educational device (a DMA engine, the IOMMU tests' weapon).
pub const EDU_VENDOR: u16 = 0x1234;
/// Device ID of QEMU's `edu` device.
pub const EDU_DEVICE: u16 = 0x11e8;

/// A function's place on the bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Address {
    /// Bus number.
    pub bus: u8,
    /// Device number, below [`DEVICES_PER_BUS`].
    pub device: u8,
    /// Function number, below [`FUNCTIONS_PER_DEVICE`].
    pub function: u8,
}

impl Address {
    /// Offset of this function's configuration page from the ECAM base (bus 0):
    /// `bus << 20 | device << 15 | function << 12`.
    pub fn ecam_offset(self) -> u64 {
        (u64::from(self.bus) << 20)
            | (u64::from(self.device & 31) << 15)
            | (u64::from(self.function & 7) << 12)
    }
}

/// What one base address register describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bar {
    /// Unused (reads as zero, or sizes to zero).
    Empty,
    /// I/O port space; the kernel does not hand these out.
    Io,
    /// Memory space at `base`; `wide` when it is 64-bit and took the next register too.
    Memory {
        /// Physical base the firmware assigned.
        base: u64,
        /// Whether the range is prefetchable.
        prefetchable: bool,
        /// Whether the BAR is 64 bits wide (the next register holds the high half).
        wide: bool,
    },
}

/// Decodes the register `low` (and, for a 64-bit memory BAR, the next register `high`).
pub fn decode_bar(low: u32, high: u32) -> Bar {
    if low & 1 == 1 {
        return Bar::Io;
    }
    let wide = (low >> 1) & 0b11 == 0b10;
    let base = u64::from(low & !0xf) | if wide { u64::from(high) << 32 } else { 0 };
    if base == 0 && !wide {
        return Bar::Empty;
    }
    Bar::Memory {
        base,
        prefetchable: low & (1 << 3) != 0,
        wide,
    }
}

/// A memory BAR's size from what it reads back after all ones were written to it (`low`, and
/// `high` for a 64-bit BAR, else 0): the lowest address bit that stuck. `None` when nothing
/// stuck (the BAR is unimplemented).
pub fn bar_size(low: u32, high: u32, wide: bool) -> Option<u64> {
    let low = u64::from(low & !0xf);
    let (mask, implemented) = if wide {
        let mask = u64::from(high) << 32 | low;
        (mask, mask != 0)
    } else {
        (0xffff_ffff_0000_0000 | low, low != 0)
    };
    implemented.then(|| (!mask).wrapping_add(1))
}

/// Whether `(vendor, device)` is a virtio block device (transitional or modern).
pub fn is_virtio_block(vendor: u16, device: u16) -> bool {
    vendor == VIRTIO_VENDOR && matches!(device, VIRTIO_BLOCK_TRANSITIONAL | VIRTIO_BLOCK_MODERN)
}
