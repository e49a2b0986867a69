//! BAR assignment for machines whose firmware leaves BARs at zero (aarch64 QEMU `virt` booted
//! with `-kernel`: no firmware runs at all).
//!
//! The policy is the simplest that works: a bump allocator over the host bridge's 32-bit
//! memory window (the device tree's `ranges` entry with space code 2), each BAR placed at the
//! next address aligned to its own size (BAR sizes are powers of two, and a BAR decodes only
//! size-aligned addresses). Nothing is ever freed; 64-bit BARs are placed in the same window
//! (their high half is then zero), I/O BARs are not assigned, and bridges' bus numbers and
//! windows are not programmed (functions behind bridges stay unreachable).

use crate::machine::PciWindow;

/// The space code of a 32-bit memory window in a `ranges` entry.
pub const SPACE_MEMORY_32: u8 = 2;

/// Hands out BAR addresses from one memory window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarAllocator {
    window: PciWindow,
    /// The next free PCI bus address.
    next: u64,
}

/// One assigned range: the bus address written into the BAR and the CPU address that
/// reaches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// PCI bus address (what the BAR holds).
    pub pci: u64,
    /// CPU physical address (what the kernel maps).
    pub cpu: u64,
}

impl BarAllocator {
    /// An allocator over `window`, if it is a non-empty 32-bit memory window.
    pub fn new(window: PciWindow) -> Option<Self> {
        (window.space == SPACE_MEMORY_32 && window.size > 0).then_some(BarAllocator {
            window,
            // Address 0 would read back as "unassigned": start above it.
            next: window.pci_base.max(1),
        })
    }

    /// The first 32-bit memory window among `windows`.
    pub fn from_windows<'a>(
        windows: impl IntoIterator<Item = &'a Option<PciWindow>>,
    ) -> Option<Self> {
        windows
            .into_iter()
            .flatten()
            .find_map(|window| BarAllocator::new(*window))
    }

    /// Places a BAR of `size` bytes (a power of two): `None` if the size is not a power of
    /// two or the window has no room left.
    pub fn allocate(&mut self, size: u64) -> Option<Assignment> {
        if !size.is_power_of_two() {
            return None;
        }
        let start = self.next.checked_add(size - 1)? & !(size - 1);
        let end = start.checked_add(size)?;
        if end > self.window.pci_base.checked_add(self.window.size)? || end > 1 << 32 {
            return None;
        }
        self.next = end;
        Some(Assignment {
            pci: start,
            cpu: start - self.window.pci_base + self.window.cpu_base,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(pci_base: u64, cpu_base: u64, size: u64) -> PciWindow {
        PciWindow {
            space: SPACE_MEMORY_32,
            pci_base,
            cpu_base,
            size,
        }
    }

    #[test]
    fn bars_are_size_aligned_and_packed() {
        // QEMU virt's 32-bit window.
        let mut bars = BarAllocator::new(window(0x1000_0000, 0x1000_0000, 0x2eff_0000)).unwrap();
        let first = bars.allocate(0x1000).unwrap();
        assert_eq!(first.pci, 0x1000_0000);
        assert_eq!(first.cpu, 0x1000_0000);
        let second = bars.allocate(0x4000).unwrap();
        assert_eq!(second.pci, 0x1000_4000);
        assert_eq!(bars.allocate(0x1000).unwrap().pci, 0x1000_8000);
    }

    #[test]
    fn translation_zero_base_and_exhaustion() {
        let mut bars = BarAllocator::new(window(0, 0x3000_0000, 0x1_0000)).unwrap();
        let first = bars.allocate(0x8000).unwrap();
        assert_eq!(first.pci, 0x8000, "never address 0");
        assert_eq!(first.cpu, 0x3000_8000);
        assert_eq!(bars.allocate(0x1000), None, "window used up");
        assert_eq!(bars.allocate(3), None, "not a power of two");
    }

    #[test]
    fn only_32_bit_memory_windows() {
        let io = PciWindow {
            space: 1,
            ..window(0, 0x3eff_0000, 0x1_0000)
        };
        let wide = PciWindow {
            space: 3,
            ..window(0x80_0000_0000, 0x80_0000_0000, 1 << 39)
        };
        assert_eq!(BarAllocator::new(io), None);
        let windows = [
            Some(io),
            Some(wide),
            None,
            Some(window(0x1000_0000, 0x1000_0000, 0x1000)),
        ];
        let mut bars = BarAllocator::from_windows(&windows).unwrap();
        assert_eq!(bars.allocate(0x1000).unwrap().pci, 0x1000_0000);
        assert_eq!(bars.allocate(0x1000), None);
    }
}
