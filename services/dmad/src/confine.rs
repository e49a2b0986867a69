//! Device confinement: telling the kernel's IOMMU which buffers each device may reach.
//!
//! With an IOMMU the kernel keeps one domain per device, holding exactly the device's live
//! buffers (design in `kernel_core::iommu`). dmad is the one who knows when a buffer becomes
//! a device's and when it stops being one, so it tells the kernel through a [`Confinement`]:
//! `map` right after a buffer is allocated for device D (before the client can learn its
//! address), `unmap` when the buffer is closed or its owner dies, *before* the pool may hand
//! its pages out again. The kernel's `unmap` returns only after the IOTLB invalidation
//! completed. An `unmap` that fails leaves the buffer quarantined: never released, so its
//! pages are never reused while a device might still reach them.
//!
//! The device address in the buffer descriptor is the IOVA the device must use: dmad maps
//! each buffer at its pool device address, so drivers see the same numbers with or without
//! an IOMMU; without one ([`Unconfined`]) nothing is asked.

use alloc::string::String;

/// What the kernel's IOMMU facility does for dmad.
pub trait Confinement {
    /// Lets `device` reach `[physical, +size)` at `iova`, read and write. `Err(errno)` if
    /// the kernel refuses; the buffer is then released again and the allocation refused.
    fn map(&mut self, device: &str, iova: u64, physical: u64, size: u64) -> Result<(), i32>;

    /// Takes `[iova, +size)` away from `device` and waits until the device can no longer
    /// reach it. `Err(errno)` if the kernel could not: the caller quarantines the buffer.
    fn unmap(&mut self, device: &str, iova: u64, size: u64) -> Result<(), i32>;
}

/// No IOMMU: devices reach physical memory directly; nothing to tell anyone.
pub struct Unconfined;

impl Confinement for Unconfined {
    fn map(&mut self, _: &str, _: u64, _: u64, _: u64) -> Result<(), i32> {
        Ok(())
    }

    fn unmap(&mut self, _: &str, _: u64, _: u64) -> Result<(), i32> {
        Ok(())
    }
}

/// Where a live buffer is in its device's domain (kept with its handle).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceMapping {
    /// The device whose domain holds it.
    pub device: String,
    /// The device address (IOVA).
    pub iova: u64,
    /// Bytes.
    pub size: u64,
}
