//! `OpenAt`: tables, allocations, and init's declare / release-pool.

use super::{Handle, Server};
use crate::{tables, PoolMemory, Refusal, Reply};
use alloc::vec::Vec;
use dma_api::{DeclareRequest, DmaBufferInfo, DmaError, DmaPath};
use dma_pool::{AllocConstraints, CacheType, OwnerId, PoolDeclaration, Zeroer};
use log::{info, warn};

impl Server {
    /// Opens `payload` (the path inside `dma:`) for `caller`; the reply is the new handle.
    pub(super) fn open(
        &mut self,
        caller: u32,
        tag: u32,
        payload: &[u8],
        memory: &mut dyn PoolMemory,
    ) -> Result<Reply, Refusal> {
        let opened = self.open_path(caller, tag, payload, memory);
        match opened {
            Ok(handle) => Ok(Reply::value(self.insert_handle(caller, handle))),
            Err(refusal) => {
                if self.usage(caller).handles == 0 {
                    self.forget_client(caller);
                }
                Err(refusal)
            }
        }
    }

    fn open_path(
        &mut self,
        caller: u32,
        tag: u32,
        payload: &[u8],
        memory: &mut dyn PoolMemory,
    ) -> Result<Handle, Refusal> {
        // Room first: a process at a limit learns so whatever it asks for.
        self.admit_handle(caller)?;
        let path = core::str::from_utf8(payload)
            .map_err(|_| Refusal::new(DmaError::Invalid, "path is not UTF-8"))?;
        if let Some(import) = crate::share::import_path(path) {
            let (device, token) = import?;
            self.client(caller, tag)?;
            return self.import(caller, device, token);
        }
        let path = DmaPath::parse(path)?;
        self.client(caller, tag)?;
        match path {
            DmaPath::Root => Ok(self.text(tables::root(&self.registry))),
            DmaPath::Stats { device } => {
                let pool = self.pool_serving(device)?;
                let reclaim = self.last_reclaim(device);
                let debug_lines = self.debug_lines(pool, device);
                let text = tables::device(&self.registry, pool, reclaim, &debug_lines, |pid| {
                    self.clients
                        .get(&pid)
                        .and_then(|client| client.name.as_deref())
                });
                Ok(self.text(text))
            }
            DmaPath::Map { device } => {
                let pool = self.pool_serving(device)?;
                Ok(self.text(tables::map(pool)))
            }
            DmaPath::Alloc {
                device,
                size,
                align,
                mask,
                boundary,
            } => {
                let constraints = AllocConstraints {
                    align,
                    mask,
                    boundary,
                };
                self.alloc(caller, device, size, constraints, memory)
            }
            DmaPath::Declare(request) => {
                self.require_privilege(caller)?;
                self.declare(&request)?;
                Ok(Handle::Done)
            }
            DmaPath::ReleasePool { device } => {
                self.require_privilege(caller)?;
                let pool = self.registry.pool_for_device(device)?;
                let name = alloc::string::String::from(pool.name());
                self.registry.retire(device)?;
                info!("pool {name} for {device} retired");
                Ok(Handle::Done)
            }
        }
    }

    fn text(&self, text: alloc::string::String) -> Handle {
        Handle::Text {
            bytes: text.into_bytes(),
            offset: 0,
        }
    }

    /// `EACCES` unless the kernel gave `caller` the `declare-pools` right.
    fn require_privilege(&self, caller: u32) -> Result<(), Refusal> {
        if self
            .clients
            .get(&caller)
            .is_some_and(|client| client.declare_pools)
        {
            Ok(())
        } else {
            Err(Refusal::new(
                DmaError::NotGranted,
                "caller lacks the declare-pools right",
            ))
        }
    }

    fn alloc(
        &mut self,
        caller: u32,
        device: &str,
        size: u64,
        constraints: AllocConstraints,
        memory: &mut dyn PoolMemory,
    ) -> Result<Handle, Refusal> {
        let key = alloc::string::String::from(self.pool_serving(device)?.device());
        let client = self.clients.get(&caller).ok_or(DmaError::NotGranted)?;
        if !client.grant.devices.iter().any(|granted| granted == device) {
            return Err(DmaError::NotGranted.into());
        }
        let Server {
            registry, regions, ..
        } = self;
        let mut zeroer = CheckingZeroer {
            regions,
            memory,
            mismatches: Vec::new(),
        };
        let allocation =
            registry.alloc_constrained(&key, size, constraints, OwnerId(caller), &mut zeroer)?;
        if !zeroer.mismatches.is_empty() {
            let mismatches = core::mem::take(&mut zeroer.mismatches);
            self.report_mismatches(allocation.handle.pool(), &mismatches);
        }
        let mapping = crate::DeviceMapping {
            device: alloc::string::String::from(device),
            iova: allocation.device_address,
            size: allocation.size_bytes,
        };
        let mapped = self
            .confinement
            .map(device, mapping.iova, allocation.phys, mapping.size);
        if let Err(errno) = mapped {
            warn!("the IOMMU refused to map a buffer of {device} (errno {errno})");
            let _ = self.registry.release(allocation.handle, OwnerId(caller));
            return Err(Refusal::new(
                DmaError::OutOfMemory,
                "the IOMMU could not map the buffer",
            ));
        }
        Ok(Handle::Buffer {
            mapping,
            handle: allocation.handle,
            info: DmaBufferInfo {
                device_address: allocation.device_address,
                size: allocation.size_bytes,
                cache_type: cache_type_code(allocation.cache_type),
                _reserved: 0,
            },
        })
    }

    /// The pool that serves `device`: its own, else the global pool if the manifest grants
    /// `device` to some process (a device neither with a pool nor granted is unknown,
    /// `ENOENT`, whoever asks).
    pub(super) fn pool_serving(&self, device: &str) -> Result<&dma_pool::Pool, Refusal> {
        if let Ok(pool) = self.registry.pool_for_device(device) {
            return Ok(pool);
        }
        if !self.grants.is_granted_to_anyone(device) {
            return Err(DmaError::UnknownDevice.into());
        }
        Ok(self.registry.pool_serving(device)?)
    }

    fn declare(&mut self, request: &DeclareRequest<'_>) -> Result<(), Refusal> {
        // A pool carved at run time has the type of the region dmad mapped it from (outside
        // every region the registry refuses it anyway).
        let cache = self
            .regions
            .cache_of(request.phys, request.size)
            .unwrap_or(CacheType::WriteCombining);
        let declaration = PoolDeclaration::new(
            request.name,
            request.device,
            request.phys,
            request.device_base,
            request.size,
            cache,
        );
        self.registry.declare(&declaration)?;
        info!(
            "pool {}: {} KiB at {:#x} (device address {:#x}) for {} (declared by init)",
            request.name,
            request.size / 1024,
            request.phys,
            request.device_base,
            request.device
        );
        Ok(())
    }
}

/// The wire code of a memory type.
pub(crate) fn cache_type_code(cache_type: CacheType) -> u32 {
    use dma_api::cache_type;
    match cache_type {
        CacheType::WriteBack => cache_type::WRITE_BACK,
        CacheType::WriteCombining => cache_type::WRITE_COMBINING,
        CacheType::Uncached => cache_type::UNCACHED,
        CacheType::Device => cache_type::DEVICE,
    }
}

/// Zeroes new buffers through dmad's mappings, checking poisoned runs first (`debug.rs`).
struct CheckingZeroer<'a> {
    regions: &'a crate::Regions,
    memory: &'a mut dyn PoolMemory,
    mismatches: Vec<super::debug::Mismatch>,
}

impl CheckingZeroer<'_> {
    fn address(&self, phys: u64, len: u64) -> u64 {
        self.regions
            .address_of(phys, len)
            .expect("every pool lies in a region dmad mapped")
    }
}

impl Zeroer for CheckingZeroer<'_> {
    fn zero(&mut self, phys: u64, len: u64) {
        let address = self.address(phys, len);
        self.memory.zero(address, len);
    }

    fn check_and_zero(&mut self, phys: u64, len: u64) {
        let address = self.address(phys, len);
        if let Some((offset, found)) = self.memory.check_and_zero(address, len) {
            self.mismatches.push(super::debug::Mismatch {
                phys,
                len,
                offset,
                found,
            });
        }
    }
}
