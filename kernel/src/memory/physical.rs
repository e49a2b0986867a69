//! The physical memory layout: RAM, what is reserved in it, and the DMA pools.
//!
//! Usable RAM is the memory map's RAM minus the kernel image, the initrd, the device tree,
//! firmware reservations (`/memreserve/`, `/reserved-memory` `reg` ranges, the x86 low
//! megabyte) and every DMA pool, shrunk to whole pages. It is computed once, before the frame
//! allocator hands out a single page.

use super::pools::{PoolSource, PoolTable};
use crate::arch::{Arch, Cpu};
use crate::platform::Platform;
use kernel_core::layout::PAGE_SIZE;
use kernel_core::ranges::RangeSet;
use kernel_core::RegionKind;
use log::{error, info};

/// Why a range is not usable RAM (for the boot table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// The kernel's own image.
    KernelImage,
    /// The initial RAM file system.
    Initrd,
    /// The flattened device tree.
    DeviceTree,
    /// Firmware: `/memreserve/`, a non-pool `/reserved-memory` node, the low megabyte.
    Firmware,
}

/// The machine's physical memory, decided at boot.
pub struct PhysicalLayout {
    /// All RAM in the memory map.
    pub ram: RangeSet<64>,
    /// Reserved ranges with their reason (at most 32).
    pub reserved: [Option<(u64, u64, Reservation)>; 32],
    /// The declared DMA pools.
    pub pools: PoolTable,
    /// RAM the frame allocator may hand out.
    pub usable: RangeSet<64>,
}

impl PhysicalLayout {
    /// Works out the layout from the platform description.
    pub fn discover(platform: &Platform) -> Self {
        let mut layout = PhysicalLayout {
            ram: RangeSet::new(),
            reserved: [None; 32],
            pools: PoolTable::new(),
            usable: RangeSet::new(),
        };
        for region in platform
            .regions()
            .filter(|region| region.kind == RegionKind::Ram)
        {
            if layout.ram.insert(region.base, region.size).is_err() {
                error!(
                    "RAM region {:#x}+{:#x} dropped: too many ranges",
                    region.base, region.size
                );
            }
        }
        layout.reserve(0, Cpu::RESERVED_LOW_MEMORY, Reservation::Firmware);
        let image = platform.boot.kernel_image;
        layout.reserve(image.base, image.size, Reservation::KernelImage);
        if let Some(initrd) = platform.initrd_range {
            layout.reserve(initrd.base, initrd.size, Reservation::Initrd);
        }
        if let Some(tree) = platform.boot.device_tree {
            layout.reserve(tree.base, tree.size, Reservation::DeviceTree);
        }
        for region in platform
            .regions()
            .filter(|region| region.kind != RegionKind::Ram)
        {
            layout.reserve(region.base, region.size, Reservation::Firmware);
        }
        if let Some(tree) = platform.device_tree() {
            // Static pools are reserved ranges too; they are claimed as pools below, so only
            // the other reserved nodes (and pool nodes that fail to parse) stay firmware's.
            let is_valid_pool = |name: &str| {
                tree.reserved_memory_pools()
                    .any(|pool| pool.is_ok_and(|pool| pool.name == name))
            };
            for region in tree.reserved_regions() {
                match region {
                    Ok(region) if !is_valid_pool(region.name) => {
                        layout.reserve(region.base, region.size, Reservation::Firmware)
                    }
                    Ok(_) => {}
                    Err(problem) => error!("/reserved-memory/{}: {}", problem.node, problem.reason),
                }
            }
        }
        layout.declare_pools(platform);
        layout.usable = layout.ram;
        for (base, size, _) in layout.reserved.iter().flatten() {
            let _ = layout.usable.remove(*base, *size);
        }
        for pool in layout.pools.iter() {
            let _ = layout.usable.remove(pool.physical_base, pool.size);
        }
        layout.usable.align_inward(PAGE_SIZE);
        layout
    }

    fn reserve(&mut self, base: u64, size: u64, reason: Reservation) {
        if size == 0 {
            return;
        }
        match self.reserved.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some((base, size, reason)),
            None => error!("reservation {base:#x}+{size:#x} dropped: too many reservations"),
        }
    }

    fn taken(&self) -> RangeSet<64> {
        let mut taken = RangeSet::new();
        for (base, size, _) in self.reserved.iter().flatten() {
            let _ = taken.insert(*base, *size);
        }
        taken
    }

    fn declare_pools(&mut self, platform: &Platform) {
        let taken = self.taken();
        if let Some(tree) = platform.device_tree() {
            for declaration in tree.reserved_memory_pools() {
                match declaration {
                    Ok(pool) => self.pools.declare(
                        &pool,
                        PoolSource::DeviceTree,
                        &self.ram,
                        &taken,
                        Some(&tree),
                    ),
                    Err(problem) => error!(
                        "DMA pool /reserved-memory/{} skipped: {}",
                        problem.node, problem.reason
                    ),
                }
            }
            for problem in tree.memory_region_errors() {
                error!(
                    "device {}: bad memory-region: {}",
                    problem.node, problem.reason
                );
            }
        }
        if let Some(manifest) = platform.manifest() {
            for declaration in manifest.pools() {
                match declaration {
                    Ok(pool) => {
                        self.pools
                            .declare(&pool, PoolSource::Manifest, &self.ram, &taken, None)
                    }
                    Err(problem) => error!(
                        "manifest line {}: DMA pool skipped: {}",
                        problem.line, problem.reason
                    ),
                }
            }
        }
    }

    /// Prints RAM, reservations and pools as one table.
    pub fn log_table(&self) {
        info!("physical memory:");
        info!("  {:<34} {:>10}  {}", "range", "KiB", "what");
        for range in self.ram.iter() {
            info!(
                "  {:#014x}..{:#014x} {:>10}  RAM",
                range.start,
                range.end,
                (range.end - range.start) / 1024
            );
        }
        for (base, size, reason) in self.reserved.iter().flatten() {
            info!(
                "  {:#014x}..{:#014x} {:>10}  reserved: {reason:?}",
                base,
                base + size,
                size / 1024
            );
        }
        for pool in self.pools.iter() {
            info!(
                "  {:#014x}..{:#014x} {:>10}  DMA pool `{}`",
                pool.physical_base,
                pool.end(),
                pool.size / 1024,
                pool.name,
            );
        }
        info!(
            "  usable RAM for the frame allocator: {} KiB",
            self.usable.total() / 1024
        );
        self.log_pools();
    }

    /// Prints the DMA pools: where they lie for the CPU and for their devices.
    fn log_pools(&self) {
        info!("DMA pools:");
        info!(
            "  {:<20} {:>16} {:>16} {:>8}  {:<11} {:<5} {:<15} devices",
            "pool", "physical", "device-address", "KiB", "source", "cache", "flags"
        );
        for pool in self.pools.iter() {
            let mut devices = [""; 4];
            for (slot, device) in devices.iter_mut().zip(pool.devices()) {
                *slot = device;
            }
            let flags = match (pool.default, pool.no_map) {
                (true, true) => "default,no-map",
                (true, false) => "default",
                (false, true) => "no-map",
                (false, false) => "-",
            };
            let source = match pool.source {
                PoolSource::DeviceTree => "device-tree",
                PoolSource::Manifest => "manifest",
            };
            info!(
                "  {:<20} {:>#16x} {:>#16x} {:>8}  {:<11} {:<5} {:<15} {}",
                pool.name,
                pool.physical_base,
                pool.device_base,
                pool.size / 1024,
                source,
                pool.cache.token(),
                flags,
                DeviceList(&devices),
            );
        }
    }
}

struct DeviceList<'a>(&'a [&'a str; 4]);

impl core::fmt::Display for DeviceList<'_> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter) -> core::fmt::Result {
        let mut first = true;
        for device in self.0.iter().filter(|device| !device.is_empty()) {
            if !first {
                formatter.write_str(", ")?;
            }
            formatter.write_str(device)?;
            first = false;
        }
        if first {
            formatter.write_str("no device")?;
        }
        Ok(())
    }
}
