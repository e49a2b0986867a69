//! What an arch crate learned at boot and hands to the kernel.
//!
//! The x86_64 crate fills the memory map from the PVH `hvm_start_info`; the aarch64 crate
//! leaves it empty and passes the device tree, from which the kernel reads `/memory` and
//! `/chosen`. Either way the kernel sees one shape and never asks which CPU it runs on.

/// How many memory-map entries boot information can carry.
pub const MAX_REGIONS: usize = 64;

/// What a memory-map entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionKind {
    /// Usable RAM.
    Ram,
    /// Firmware-reserved, ACPI or otherwise not for the kernel.
    Reserved,
    /// ACPI tables that may be reclaimed after they are read.
    AcpiReclaimable,
}

/// One physical memory-map entry: `[base, base + size)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryRegion {
    /// Physical address of the first byte.
    pub base: u64,
    /// Length in bytes.
    pub size: u64,
    /// What the range holds.
    pub kind: RegionKind,
}

impl MemoryRegion {
    /// One past the last byte, saturating at the top of the address space.
    pub const fn end(&self) -> u64 {
        self.base.saturating_add(self.size)
    }
}

/// A physical byte range the boot loader placed (initrd, device tree).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhysicalRange {
    /// Physical address of the first byte.
    pub base: u64,
    /// Length in bytes.
    pub size: u64,
}

/// Everything the arch crate hands the kernel at entry.
#[derive(Clone, Copy, Debug)]
pub struct BootInfo {
    /// A name for the CPU and the boot protocol, for the boot log.
    pub cpu: &'static str,
    /// The memory map given by the boot protocol; empty when it comes from the device tree.
    pub regions: [Option<MemoryRegion>; MAX_REGIONS],
    /// The initial RAM file system, when the boot protocol named one directly.
    pub initrd: Option<PhysicalRange>,
    /// The flattened device tree, when there is one.
    pub device_tree: Option<PhysicalRange>,
    /// The kernel command line given by the boot protocol, if any (`/chosen/bootargs` on a
    /// device-tree machine is read by the kernel instead).
    pub command_line: Option<PhysicalRange>,
    /// Physical range occupied by the kernel image itself.
    pub kernel_image: PhysicalRange,
    /// Physical address of the ACPI RSDP, when the boot protocol gives one (PVH does).
    pub acpi_rsdp: Option<u64>,
}

impl BootInfo {
    /// Boot information with nothing but the CPU name and the kernel's own place.
    pub const fn new(cpu: &'static str, kernel_image: PhysicalRange) -> Self {
        BootInfo {
            cpu,
            regions: [None; MAX_REGIONS],
            initrd: None,
            device_tree: None,
            command_line: None,
            kernel_image,
            acpi_rsdp: None,
        }
    }

    /// Adds a memory-map entry; returns `false` (and drops it) when the table is full.
    pub fn push_region(&mut self, region: MemoryRegion) -> bool {
        match self.regions.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => {
                *slot = Some(region);
                true
            }
            None => false,
        }
    }

    /// The memory-map entries in order.
    pub fn regions(&self) -> impl Iterator<Item = &MemoryRegion> {
        self.regions.iter().flatten()
    }

    /// Total bytes of usable RAM in the memory map.
    pub fn ram_bytes(&self) -> u64 {
        self.regions()
            .filter(|r| r.kind == RegionKind::Ram)
            .map(|r| r.size)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMAGE: PhysicalRange = PhysicalRange {
        base: 0x10_0000,
        size: 0x1000,
    };

    #[test]
    fn ram_bytes_counts_only_ram() {
        let mut info = BootInfo::new("test", IMAGE);
        assert!(info.push_region(MemoryRegion {
            base: 0,
            size: 0x9_f000,
            kind: RegionKind::Ram
        }));
        assert!(info.push_region(MemoryRegion {
            base: 0xf_0000,
            size: 0x1_0000,
            kind: RegionKind::Reserved
        }));
        assert!(info.push_region(MemoryRegion {
            base: 0x10_0000,
            size: 0x100_0000,
            kind: RegionKind::Ram
        }));
        assert_eq!(info.ram_bytes(), 0x9_f000 + 0x100_0000);
    }

    #[test]
    fn push_region_refuses_past_capacity() {
        let mut info = BootInfo::new("test", IMAGE);
        let region = MemoryRegion {
            base: 0,
            size: 1,
            kind: RegionKind::Ram,
        };
        for _ in 0..MAX_REGIONS {
            assert!(info.push_region(region));
        }
        assert!(!info.push_region(region));
        assert_eq!(info.regions().count(), MAX_REGIONS);
    }
}
