//! Start-up: the kernel's DMA regions become reserved regions, mappings and pools.

use super::Server;
use crate::{MemoryPoolLine, Region};
use alloc::format;
use alloc::string::String;
use dma_pool::{CacheType, PoolDeclaration, PoolError, PAGE_SIZE};
use log::{info, warn};

impl Server {
    /// Takes in one `memory:pools` region that dmad mapped at `mapping`: records it as
    /// reserved DMA memory and declares a pool for each device it serves. A region serving
    /// several devices is split into equal page-aligned parts, in the order listed, pool
    /// `NAME.DEVICE` each; a single-device region is pool `NAME`. Logs one line per pool.
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
        });
        let count = line.devices().count() as u64;
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
                CacheType::WriteCombining,
            ))?;
            info!(
                "pool {name}: {} KiB at {:#x} (device address {device_base:#x}) for {device}",
                part / 1024,
                line.phys + offset,
            );
        }
        Ok(())
    }
}
