//! Adding reserved regions, declaring pools inside them, and retiring pools.
//!
//! A pool may only be carved from a reserved region: the ranges the kernel declared as DMA
//! memory and lets dmad map. Boot-time pools (device tree, image manifest) and run-time pools
//! (`dma:/declare`) follow the same rule and the same checks.

use super::PoolRegistry;
use crate::{
    Pool, PoolDeclaration, PoolError, PoolId, ReservedRegion, DEFAULT_BUFFER_CAPACITY, PAGE_SHIFT,
    PAGE_SIZE,
};

/// The most pages one pool may hold (page indices are 32-bit): 16 TiB.
pub const MAX_POOL_PAGES: u64 = 1 << 32;

impl PoolRegistry {
    /// Records a physical range the kernel declared as DMA memory. It must be non-empty,
    /// page-aligned, must not wrap around the address space, and must not overlap another
    /// reserved region.
    pub fn add_reserved_region(
        &mut self,
        phys_base: u64,
        size_bytes: u64,
    ) -> Result<(), PoolError> {
        check_range(phys_base, size_bytes)?;
        let end = phys_base + size_bytes;
        if self
            .reserved
            .iter()
            .any(|region| phys_base < region.end() && region.phys_base < end)
        {
            return Err(PoolError::InvalidRequest(
                "reserved region overlaps another",
            ));
        }
        self.reserved.push(ReservedRegion {
            phys_base,
            size_bytes,
        });
        Ok(())
    }

    /// Declares a pool (`dma_declare_coherent_memory`). Checks, before changing anything:
    /// non-empty names; size non-zero, page-aligned and at most [`MAX_POOL_PAGES`] pages;
    /// both bases page-aligned and neither `base + size` overflowing; the device not served
    /// by another pool; the physical range inside one reserved region and overlapping no
    /// other pool; a non-zero buffer capacity. Every refusal is
    /// [`PoolError::InvalidRequest`].
    ///
    /// Device address ranges are not compared between pools: each device sees its own
    /// address space (an IOMMU domain or a bus offset), so two pools may share device
    /// addresses.
    pub fn declare(&mut self, declaration: &PoolDeclaration<'_>) -> Result<PoolId, PoolError> {
        if declaration.name.is_empty() || declaration.device.is_empty() {
            return Err(PoolError::InvalidRequest(
                "pool and device names must not be empty",
            ));
        }
        check_range(declaration.phys_base, declaration.size_bytes)?;
        if !declaration.device_base.is_multiple_of(PAGE_SIZE) {
            return Err(PoolError::InvalidRequest("device base not page-aligned"));
        }
        if declaration
            .device_base
            .checked_add(declaration.size_bytes)
            .is_none()
        {
            return Err(PoolError::InvalidRequest(
                "device range wraps around the address space",
            ));
        }
        let pages = declaration.size_bytes >> PAGE_SHIFT;
        if pages > MAX_POOL_PAGES {
            return Err(PoolError::InvalidRequest("pool larger than 16 TiB"));
        }
        let buffer_capacity = match declaration.buffer_capacity {
            Some(0) => return Err(PoolError::InvalidRequest("buffer capacity is zero")),
            Some(capacity) if capacity == u32::MAX => {
                return Err(PoolError::InvalidRequest("buffer capacity too large"));
            }
            Some(capacity) => capacity,
            None => DEFAULT_BUFFER_CAPACITY.min(pages.min(u64::from(u32::MAX - 1)) as u32),
        };
        if self.device_index(declaration.device).is_ok() {
            return Err(PoolError::InvalidRequest("device already has a pool"));
        }
        let end = declaration.phys_base + declaration.size_bytes;
        if self.pools().any(|pool| {
            declaration.phys_base < pool.phys_base() + pool.size_bytes() && pool.phys_base() < end
        }) {
            return Err(PoolError::InvalidRequest("pool overlaps another pool"));
        }
        if !self
            .reserved
            .iter()
            .any(|region| region.contains(declaration.phys_base, declaration.size_bytes))
        {
            return Err(PoolError::InvalidRequest(
                "pool outside every reserved region",
            ));
        }
        let index = match self.pools.iter().position(Option::is_none) {
            Some(index) => index,
            None => {
                self.pools.push(None);
                self.pools.len() - 1
            }
        };
        let id = PoolId {
            index: index as u32,
            serial: self.next_serial,
        };
        self.next_serial = self.next_serial.wrapping_add(1);
        let mut pool = Pool::new(id, declaration, buffer_capacity);
        pool.set_poisoning(self.poisoning);
        self.pools[index] = Some(pool);
        Ok(id)
    }

    /// Retires `device`'s pool (`dma_release_coherent_memory`): refused with
    /// [`PoolError::Busy`] while any buffer is live or a released buffer is still mapped.
    /// Handles into the retired pool become stale.
    pub fn retire(&mut self, device: &str) -> Result<PoolId, PoolError> {
        let index = self.device_index(device)?;
        let pool = self.slot_mut(index);
        if pool.is_busy() {
            return Err(PoolError::Busy);
        }
        let id = pool.id();
        // Its parked records' charges go with it.
        let owners = &mut self.owners;
        if let Some(pool) = self.pools[index].as_mut() {
            pool.unpark_where(|_| true, &mut |parked_with, pages| {
                owners.released(parked_with, pages, false);
            });
        }
        self.pools[index] = None;
        Ok(id)
    }
}

/// Checks that `[base, base + size)` is non-empty, page-aligned and does not wrap.
fn check_range(base: u64, size_bytes: u64) -> Result<(), PoolError> {
    if size_bytes == 0 {
        return Err(PoolError::InvalidRequest("size is zero"));
    }
    if !base.is_multiple_of(PAGE_SIZE) || !size_bytes.is_multiple_of(PAGE_SIZE) {
        return Err(PoolError::InvalidRequest("base or size not page-aligned"));
    }
    if base.checked_add(size_bytes).is_none() {
        return Err(PoolError::InvalidRequest(
            "range wraps around the address space",
        ));
    }
    Ok(())
}
