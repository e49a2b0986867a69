//! `iommu:DEVICE`: the narrow facility through which dmad, and only dmad (a process that may
//! serve `dma:`), maps its buffers into DEVICE's IOMMU domain and unmaps them again.
//!
//! Open: `EACCES` for anyone else, `ENODEV` when no IOMMU confines DEVICE (no IOMMU,
//! `iommu=off`, not a PCI function, or not in the device table at all): dmad then knows device
//! addresses are physical and asks nothing more. A `call` carries one
//! [`kernel_core::iommu::Request`]: `Map` only of pages inside a declared DMA pool (never
//! kernel memory, whatever dmad says), `Unmap` returning only after the IOTLB invalidation
//! completed, so dmad may reuse the pages as soon as the call returns.

use crate::object::{Handles, OpenRequest, Scheme, Sink, Source};
use kernel_core::iommu::{DomainId, Request};
use kernel_core::Error;

static HANDLES: Handles<DomainId> = Handles::new();

/// The `iommu:` scheme.
pub struct IommuScheme;

impl Scheme for IommuScheme {
    fn open(&self, request: &OpenRequest<'_>) -> Result<u64, Error> {
        if !request.caller.rights.may_serve("dma") {
            return Err(Error::AccessDenied);
        }
        // A device the kernel confines in no domain — none at all without an IOMMU, or one
        // the device table does not hold (aarch64's device-tree test devices) — is ENODEV,
        // which dmad takes as "nothing to map"; an ENOENT would fail its allocations.
        let domain = crate::iommu::domain_of_device(request.path).ok_or(Error::NoDevice)?;
        HANDLES.insert(domain)
    }

    fn call(&self, handle: u64, input: &dyn Source, output: &mut dyn Sink) -> Result<usize, Error> {
        let domain = HANDLES.with(handle, |domain| *domain)?;
        if input.len() != Request::BYTES {
            return Err(Error::InvalidArgument);
        }
        let mut bytes = [0; Request::BYTES];
        input.copy_to(0, &mut bytes)?;
        let iommu = crate::iommu::get().ok_or(Error::NoDevice)?;
        match Request::decode(&bytes)? {
            Request::Map {
                iova,
                physical,
                size,
                access,
            } => {
                let end = physical + size;
                let in_pool = crate::memory::pools::published()
                    .iter()
                    .any(|pool| pool.physical_base <= physical && end <= pool.end());
                if !in_pool {
                    log::warn!("iommu: refused to map {physical:#x}+{size:#x}: not pool memory");
                    return Err(Error::AccessDenied);
                }
                iommu.map(domain, iova, physical, size, access)?;
            }
            Request::Unmap { iova, size } => iommu.unmap(domain, iova, size)?,
        }
        let _ = output;
        Ok(0)
    }

    fn close(&self, handle: u64) {
        HANDLES.remove(handle);
    }
}
