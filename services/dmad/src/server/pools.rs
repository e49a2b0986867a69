//! Start-up: the kernel's DMA regions become reserved regions, mappings and pools.

use super::Server;
use crate::{MemoryPoolLine, Region};
use alloc::format;
use alloc::string::String;
use dma_pool::{PoolDeclaration, PoolError, PAGE_SIZE};
use log::{info, warn};

/// The device name the global pool is kept under when it serves no device of its own: a
/// name no real device has, which only a process granted it by that name could allocate
/// from directly.
pub const DEFAULT_POOL_DEVICE: &str = "(default)";

impl Server {
    /// Takes in one `memory:pools` region that dmad mapped at `mapping`: records it as
    /// reserved DMA memory and declares a pool for each device it serves, each with the
    /// region's memory type (`cache=`). A region serving
    /// several devices is split into equal page-aligned parts, in the order listed, pool
    /// `NAME.DEVICE` each; a single-device region is pool `NAME`. A `default` region is one
    /// pool `NAME`, kept under its first device's name (or [`DEFAULT_POOL_DEVICE`] if it has
    /// none), and becomes the global pool; its other devices are served as any device without
    /// a pool is. Logs one line per pool. A pool whose device the kernel reports not
    /// confirmed quiet is held back whole (`crate::quiesce`: a restarted dmad).
    ///
    /// # Errors
    ///
    /// The registry's refusal of the region (misaligned, overlapping) or of a pool; pools
    /// declared before a refusal stay.
    pub fn add_memory_pool(
        &mut self,
        line: &MemoryPoolLine<'_>,
        mapping: u64,
    ) -> Result<(), PoolError> {
        self.registry.add_reserved_region(line.phys, line.size)?;
        self.regions.add(Region {
            phys: line.phys,
            size: line.size,
            mapping,
            cache: line.cache,
        });
        if line.default {
            return self.add_default_pool(line);
        }
        let count = line.devices().count() as u64;
        if count == 0 {
            return Err(PoolError::InvalidRequest("region serves no device"));
        }
        let part = line.size / count / PAGE_SIZE * PAGE_SIZE;
        if part == 0 {
            return Err(PoolError::InvalidRequest(
                "region too small for its devices",
            ));
        }
        if part * count != line.size {
            warn!(
                "pool {}: {} bytes left unused after splitting among {count} devices",
                line.name,
                line.size - part * count
            );
        }
        for (index, device) in line.devices().enumerate() {
            let offset = index as u64 * part;
            let name: String = if count == 1 {
                line.name.into()
            } else {
                format!("{}.{device}", line.name)
            };
            let device_base =
                line.device_base
                    .checked_add(offset)
                    .ok_or(PoolError::InvalidRequest(
                        "device range wraps around the address space",
                    ))?;
            self.registry.declare(&PoolDeclaration::new(
                &name,
                device,
                line.phys + offset,
                device_base,
                part,
                line.cache,
            ))?;
            info!(
                "pool {name}: {} KiB at {:#x} (device address {device_base:#x}) for {device}",
                part / 1024,
                line.phys + offset,
            );
            self.hold_back_if_unquiet(device);
        }
        Ok(())
    }

    fn add_default_pool(&mut self, line: &MemoryPoolLine<'_>) -> Result<(), PoolError> {
        let device = line.devices().next().unwrap_or(DEFAULT_POOL_DEVICE);
        self.registry.declare(&PoolDeclaration::new(
            line.name,
            device,
            line.phys,
            line.device_base,
            line.size,
            line.cache,
        ))?;
        if let Err(error) = self.registry.set_global(device) {
            // Keep the pool for its own device, but it serves no one else.
            warn!(
                "pool {}: not the default pool: {error} (only one pool may be default)",
                line.name
            );
            self.hold_back_if_unquiet(device);
            return Ok(());
        }
        self.hold_back_if_unquiet(device);
        info!(
            "pool {}: {} KiB at {:#x} (device address {:#x}), default pool for granted devices without one",
            line.name,
            line.size / 1024,
            line.phys,
            line.device_base,
        );
        Ok(())
    }
}
