//! Export and import of buffers between processes and devices (design and decisions in
//! `crate::share`): the export `call`, the import `open`, and the release of an import.

use super::{Handle, Server};
use crate::share::{
    self, BufferKey, DeviceRelease, Export, Token, NO_DEVICE_ADDRESS, TOKEN_DIGITS,
};
use crate::{DeviceMapping, Refusal, Reply};
use dma_api::{DmaBufferInfo, DmaError};
use dma_pool::{BufferHandle, MappingToken, OwnerId, Unmapped};
use log::{info, warn};

/// What an importer's handle holds.
#[derive(Clone, Debug)]
pub(super) struct Import {
    /// The hold on the buffer; also the token of the importer's mappings of it.
    pub(super) hold: MappingToken,
    /// The buffer, as the share table counts its holders.
    pub(super) buffer: BufferKey,
    /// Who exported it (charged for its pages until they return).
    pub(super) exporter: u32,
    /// What a read of the handle returns.
    pub(super) info: DmaBufferInfo,
    /// Where the import's device reaches it, for an import for a device.
    pub(super) mapping: Option<DeviceMapping>,
}

/// The share table's name for the buffer `handle` names.
fn buffer_key(handle: BufferHandle) -> BufferKey {
    (handle.pool().serial(), handle.slot(), handle.generation())
}

impl Server {
    /// Reseeds the export tokens' key (the program does so at start-up with what entropy
    /// it has).
    pub fn seed_tokens(&mut self, seed: [u64; 2]) {
        self.shares.seed(seed);
    }

    /// Stirs `entropy` into the export tokens' key (the program passes the cycle counter
    /// before each `call`).
    pub fn stir_tokens(&mut self, entropy: u64) {
        self.shares.stir(entropy);
    }

    /// The share table's limits (tests use small ones).
    pub fn set_share_limits(&mut self, limits: share::ShareLimits) {
        self.shares.set_limits(limits);
    }

    /// `call` with `export[?device=DEV][&pid=P]` on the caller's buffer `number`: a new
    /// token, as 32 hex digits, into a reply buffer of `capacity` bytes.
    pub(super) fn export(
        &mut self,
        caller: u32,
        number: u64,
        options: &[u8],
        capacity: u64,
    ) -> Result<Reply, Refusal> {
        let handle = match &self.owned(caller, number)?.handle {
            Handle::Buffer { handle, .. } => *handle,
            Handle::Import(_) => {
                return Err(Refusal::new(
                    DmaError::NotGranted,
                    "only the buffer's allocator exports it",
                ))
            }
            _ => return Err(Refusal::new(DmaError::BadHandle, "not a buffer")),
        };
        let (device, pid) = share::export_options(options)?;
        if capacity < TOKEN_DIGITS as u64 {
            return Err(Refusal::new(
                DmaError::Invalid,
                "the reply buffer cannot hold a token",
            ));
        }
        if let Some(device) = device {
            self.pool_serving(device)?;
        }
        let buffer = buffer_key(handle);
        self.shares.admit_export(caller, buffer)?;
        let token = self.shares.export(Export {
            exporter: caller,
            number,
            buffer,
            device: device.map(alloc::string::String::from),
            pid,
        });
        Ok(Reply::bytes(token.to_text().into_bytes()))
    }

    /// Opens an import of `token` for `device` (or the CPU only) for `caller`, whose client
    /// record exists. Checks, in order: the device (`ENOENT`) and its grant (`EACCES`), the
    /// token (`ENOENT`), its restrictions (`EACCES`); then maps the buffer into the
    /// device's domain if it is not there yet (`ENOMEM` if the IOMMU refuses). Only then is
    /// the token consumed; a refusal changes nothing.
    pub(super) fn import(
        &mut self,
        caller: u32,
        device: Option<&str>,
        token: Token,
    ) -> Result<Handle, Refusal> {
        let offset = match device {
            Some(device) => {
                let pool = self.pool_serving(device)?;
                let offset = pool.device_base().wrapping_sub(pool.phys_base());
                let client = self.clients.get(&caller).ok_or(DmaError::NotGranted)?;
                if !client.grant.devices.iter().any(|granted| granted == device) {
                    return Err(DmaError::NotGranted.into());
                }
                Some(offset)
            }
            None => None,
        };
        let export = self.shares.find(token).ok_or(Refusal::new(
            DmaError::UnknownDevice,
            "no such token (forged, used or revoked)",
        ))?;
        if export.device.is_some() && export.device.as_deref() != device {
            return Err(Refusal::new(
                DmaError::NotGranted,
                "the token is for another device",
            ));
        }
        if export.pid.is_some_and(|pid| pid != caller) {
            return Err(Refusal::new(
                DmaError::NotGranted,
                "the token is for another process",
            ));
        }
        let (exporter, number, buffer) = (export.exporter, export.number, export.buffer);
        let Some(Handle::Buffer {
            handle,
            info,
            mapping: owner_mapping,
        }) = self
            .handles
            .get(&(exporter, number))
            .map(|open| open.handle.clone())
        else {
            // Closing an exported buffer revokes its tokens, so this does not happen; should
            // it, the token names nothing.
            return Err(Refusal::new(
                DmaError::UnknownDevice,
                "the token's buffer is gone",
            ));
        };
        let held = self.registry.buffer(handle, OwnerId(exporter))?;
        let hold = self.registry.hold(handle, OwnerId(exporter))?;
        let mapping = match (device, offset) {
            (Some(device), Some(offset)) => {
                let mapping = DeviceMapping {
                    device: alloc::string::String::from(device),
                    iova: held.phys.wrapping_add(offset),
                    size: held.size_bytes,
                };
                if let Err(refusal) = self.map_for_import(&mapping, held.phys, &owner_mapping) {
                    let _ = self.registry.map_removed(hold);
                    return Err(refusal);
                }
                Some(mapping)
            }
            _ => None,
        };
        self.shares.redeem(token);
        info!(
            "pid {caller} imported pid {exporter}'s buffer {:#x} ({} KiB){}",
            info.device_address,
            held.size_bytes / 1024,
            match &mapping {
                Some(mapping) => alloc::format!(" for {} at {:#x}", mapping.device, mapping.iova),
                None => alloc::string::String::new(),
            }
        );
        Ok(Handle::Import(Import {
            hold,
            buffer,
            exporter,
            info: DmaBufferInfo {
                device_address: mapping.as_ref().map_or(NO_DEVICE_ADDRESS, |m| m.iova),
                ..info
            },
            mapping,
        }))
    }

    /// Makes the buffer at `physical` reachable at `mapping` for one more import: counted
    /// if imports (or the exporter's own allocation, `owner_mapping`) already map it there,
    /// else mapped into the device's domain now.
    fn map_for_import(
        &mut self,
        mapping: &DeviceMapping,
        physical: u64,
        owner_mapping: &DeviceMapping,
    ) -> Result<(), Refusal> {
        let device = mapping.device.as_str();
        if self.shares.device(device, mapping.iova).is_some() {
            self.shares.device_added(device, mapping.iova, false);
            return Ok(());
        }
        if owner_mapping == mapping {
            self.shares.device_added(device, mapping.iova, true);
            return Ok(());
        }
        let mapped = self
            .confinement
            .map(device, mapping.iova, physical, mapping.size);
        if let Err(errno) = mapped {
            warn!("the IOMMU refused to map an imported buffer for {device} (errno {errno})");
            return Err(Refusal::new(
                DmaError::OutOfMemory,
                "the IOMMU could not map the buffer for that device",
            ));
        }
        self.shares.device_added(device, mapping.iova, false);
        Ok(())
    }

    /// Ends `caller`'s import (its close or its exit): takes the buffer out of the import's
    /// device domain if no one else there uses it, then drops the hold — unless the device
    /// may still reach the pages (unmap failed, or `caller` held the device and the kernel
    /// did not confirm its quiesce): then the hold stays for good.
    pub(super) fn release_import(&mut self, caller: u32, import: Import) {
        let mut keep = false;
        if let Some(mapping) = &import.mapping {
            let device = mapping.device.as_str();
            if self.shares.device_dropped(device, mapping.iova) == DeviceRelease::Unmap {
                if let Err(errno) = self.confinement.unmap(device, mapping.iova, mapping.size) {
                    warn!(
                        "{device}: the IOMMU did not unmap imported {:#x} (errno {errno}); its pages are held for good",
                        mapping.iova
                    );
                    keep = true;
                }
            }
            let state = self.callers.device_state(device).unwrap_or_default();
            if state.may_still_reach(caller) {
                warn!(
                    "{device}: quiesce generation {} not confirmed; the buffer pid {caller} imported is held for good",
                    state.generation
                );
                keep = true;
            }
        }
        self.shares.import_dropped(import.buffer);
        if keep {
            return;
        }
        match self.registry.map_removed(import.hold) {
            Ok(Unmapped::Freed { .. }) => self.forget_if_gone(import.exporter),
            Ok(_) => {}
            Err(error) => info!("import of pid {caller}: buffer already gone ({error})"),
        }
    }

    /// A shared buffer's pages returned, perhaps with the last charge of its `owner`: if
    /// dmad already forgot the owner (it exited or closed everything), its quota entry goes
    /// too, so dead exporters do not fill `dma-pool`'s owner table.
    pub(super) fn forget_if_gone(&mut self, owner: u32) {
        if !self.clients.contains_key(&owner) && self.usage(owner) == Default::default() {
            self.forget_client(owner);
        }
    }

    /// The exporter lets go of its buffer's allocation mapping (its close or exit): unmaps
    /// it from the device's domain, unless imports for that device still use it (then the
    /// last of them does). The result is the kernel's.
    pub(super) fn unmap_owned(&mut self, mapping: &DeviceMapping) -> Result<(), i32> {
        if self.shares.owner_unmapping(&mapping.device, mapping.iova) {
            return Ok(());
        }
        self.confinement
            .unmap(&mapping.device, mapping.iova, mapping.size)
    }

    /// Unused tokens of all processes (for tests).
    #[cfg(test)]
    pub(crate) fn unused_tokens(&self) -> usize {
        self.shares.tokens()
    }
}
