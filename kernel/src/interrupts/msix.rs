//! PCI MSI-X, programmed by the kernel: a driver never writes a message address or data.
//!
//! For a function's interrupt the kernel finds the MSI-X capability (id 0x11) in its
//! configuration page, maps the page of its table (BAR `BIR` + table offset), writes entry 0
//! with the message the CPU port handed out, and sets MSI-X Enable with the function mask
//! clear and INTx disabled. Entry 0's vector-control mask bit is the line's mask: set when
//! the interrupt fires or nobody holds the line, cleared when the holder acknowledges. A
//! message the device raises while masked is held in its pending-bit array and sent on
//! unmask (PCI's rule), so masking loses nothing.
//!
//! Drivers route their sources to table entry 0 (virtio: `queue_msix_vector = 0`).
//!
//! A function with plain MSI (capability id 0x05) and no MSI-X ([`connect_msi`], QEMU's
//! `edu`) gets the same message written into its capability, one vector, MSI enabled and
//! INTx disabled. MSI's per-vector mask bit is optional (edu has none), so such a line is
//! masked in the kernel instead (`lines::Masking::Software`): a message arriving while the
//! line is masked is remembered there and delivered on unmask, as a device's pending bit
//! would be.

use crate::devices::ConfigPage;
use crate::memory::kernel_space;
use kernel_core::interrupt::Message;
use kernel_core::pci::{self, Bar};
use kernel_core::CacheType;

/// The capability id of MSI-X.
const CAPABILITY_MSIX: u8 = 0x11;
/// The capability id of MSI.
const CAPABILITY_MSI: u8 = 0x05;
/// MSI message control: bit 0 enable, bits 4..=6 multiple message enable (0: one vector),
/// bit 7 64-bit address capable.
const MSI_ENABLE: u16 = 1;
const MSI_MULTIPLE_ENABLE: u16 = 0b111 << 4;
const MSI_64_BIT: u16 = 1 << 7;
/// Status register bit 4: the function has a capability list.
const STATUS_CAPABILITIES: u16 = 1 << 4;
/// The status register's offset.
const STATUS: usize = 0x06;
/// The capabilities pointer's offset.
const CAPABILITIES_POINTER: usize = 0x34;
/// Message control bit 15: MSI-X enable; bit 14: function mask.
const CONTROL_ENABLE: u16 = 1 << 15;
const CONTROL_FUNCTION_MASK: u16 = 1 << 14;
/// Command register bit 10: INTx disable.
const COMMAND_INTX_DISABLE: u16 = 1 << 10;
/// Bytes of one table entry; vector control is its last word, bit 0 the mask.
const ENTRY_SIZE: u64 = 16;
const VECTOR_CONTROL: u64 = 12;

/// An MSI-X table entry the kernel programmed: masking is a write to its vector control.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// Kernel virtual address of the entry.
    address: u64,
}

impl Entry {
    fn word(self, offset: u64) -> *mut u32 {
        (self.address + offset) as *mut u32
    }

    /// Sets or clears the entry's mask bit.
    pub fn set_masked(self, masked: bool) {
        // SAFETY: `address` maps a whole MSI-X table entry as device memory (`connect`), and
        // vector control is its aligned last word.
        unsafe { self.word(VECTOR_CONTROL).write_volatile(u32::from(masked)) };
    }
}

/// Points entry 0 of the MSI-X table of the function whose configuration page is at
/// `config` at `message`, masked, and enables MSI-X. `None` if the function has no MSI-X
/// capability or its table cannot be mapped.
pub fn connect(config: u64, message: Message) -> Option<Entry> {
    let page = ConfigPage::map(config)?;
    let capability = find_capability(page, CAPABILITY_MSIX)?;
    let table = page.read32(capability + 4);
    let bar_index = (table & 0b111) as usize;
    let table_offset = u64::from(table & !0b111);
    let offset = pci::BAR0 + bar_index * 4;
    let high = if bar_index < 5 {
        page.read32(offset + 4)
    } else {
        0
    };
    let Bar::Memory { base, .. } = pci::decode_bar(page.read32(offset), high) else {
        return None;
    };
    let physical = base + table_offset;
    let mapped = kernel_space::map_device(physical, ENTRY_SIZE, CacheType::Device).ok()?;
    let entry = Entry { address: mapped };
    entry.set_masked(true);
    // SAFETY: as in `set_masked`: the three words before vector control, in the same entry.
    unsafe {
        entry.word(0).write_volatile(message.address as u32);
        entry.word(4).write_volatile((message.address >> 32) as u32);
        entry.word(8).write_volatile(message.data);
    }
    let command = page.read16(pci::COMMAND);
    page.write16(pci::COMMAND, command | COMMAND_INTX_DISABLE);
    let control = page.read16(capability + 2);
    page.write16(
        capability + 2,
        (control | CONTROL_ENABLE) & !CONTROL_FUNCTION_MASK,
    );
    Some(entry)
}

/// Writes `message` into the MSI capability of the function whose configuration page is at
/// `config` (one vector) and enables MSI with INTx disabled. `false` if the function has no
/// MSI capability. The caller masks the line in software.
pub fn connect_msi(config: u64, message: Message) -> bool {
    let Some(page) = ConfigPage::map(config) else {
        return false;
    };
    let Some(capability) = find_capability(page, CAPABILITY_MSI) else {
        return false;
    };
    let control = page.read16(capability + 2);
    page.write32(capability + 4, message.address as u32);
    let data = if control & MSI_64_BIT != 0 {
        page.write32(capability + 8, (message.address >> 32) as u32);
        capability + 12
    } else {
        capability + 8
    };
    // MSI data is 16 bits wide; both CPU ports' messages fit (a vector, a GICv2m SPI).
    page.write16(data, message.data as u16);
    let command = page.read16(pci::COMMAND);
    page.write16(pci::COMMAND, command | COMMAND_INTX_DISABLE);
    page.write16(
        capability + 2,
        (control & !MSI_MULTIPLE_ENABLE) | MSI_ENABLE,
    );
    true
}

/// The offset of the function's capability `id`, walking at most 48 entries of the list.
fn find_capability(page: ConfigPage, id: u8) -> Option<usize> {
    if page.read16(STATUS) & STATUS_CAPABILITIES == 0 {
        return None;
    }
    let mut offset = usize::from(page.read8(CAPABILITIES_POINTER) & !3);
    for _ in 0..48 {
        if offset < 0x40 {
            return None;
        }
        if page.read8(offset) == id {
            return Some(offset);
        }
        offset = usize::from(page.read8(offset + 1) & !3);
    }
    None
}
