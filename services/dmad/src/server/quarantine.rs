//! Reclaiming a buffer in the crate doc's order (unmap from the device's IOMMU domain, then
//! back to the pool or into quarantine), and lifting a quarantine once the kernel confirms a
//! later quiesce. One quarantine for both reasons: see `crate::quiesce`.

use super::Server;
use crate::quiesce::{Held, Reclaim};
use crate::DeviceMapping;
use alloc::string::String;
use alloc::vec::Vec;
use dma_pool::{BufferHandle, OwnerId, PoolError};
use log::{info, warn};

impl Server {
    /// Reclaims `owner`'s buffer at `mapping` (crate doc, "Releasing a buffer"): unmaps it
    /// from its device's IOMMU domain (the kernel invalidates and waits), then releases it,
    /// or quarantines it when the unmap failed (for good) or when the kernel says the
    /// device's last quiesce, which ended `owner`'s hold, was not confirmed (until a later
    /// one is). Records what it checked.
    pub(super) fn reclaim(
        &mut self,
        handle: BufferHandle,
        owner: u32,
        mapping: &DeviceMapping,
    ) -> Result<(), PoolError> {
        let device = mapping.device.as_str();
        let unmapped = self.confinement.unmap(device, mapping.iova, mapping.size);
        let state = self.callers.device_state(device).unwrap_or_default();
        let unmap_failed = unmapped.is_err();
        let quarantine = unmap_failed || state.may_still_reach(owner);
        if quarantine {
            let pages = self.registry.quarantine(handle, OwnerId(owner))?;
            match unmapped {
                Err(errno) => warn!(
                    "{device}: the IOMMU did not unmap {:#x} (errno {errno}); {pages} pages of pid {owner} quarantined for good",
                    mapping.iova
                ),
                Ok(()) => warn!(
                    "{device}: quiesce generation {} not confirmed; {pages} pages of pid {owner} quarantined",
                    state.generation
                ),
            }
            let held = self
                .quiesce
                .held
                .entry(String::from(device))
                .or_insert(Held {
                    pool: handle.pool(),
                    failed_generation: state.generation,
                    unmap_failed,
                });
            held.failed_generation = held.failed_generation.max(state.generation);
            held.unmap_failed |= unmap_failed;
        } else {
            self.registry.release(handle, OwnerId(owner))?;
        }
        self.quiesce.reclaims.insert(
            String::from(device),
            Reclaim {
                owner,
                state,
                quarantined: quarantine,
            },
        );
        Ok(())
    }

    /// Lifts the quarantine of every device the kernel has since confirmed quiet. A pool
    /// holding several devices' quarantined buffers (the global pool) is lifted only when
    /// none of them is still unconfirmed.
    pub(super) fn lift_quarantines(&mut self) {
        if self.quiesce.held.is_empty() {
            return;
        }
        let devices: Vec<String> = self.quiesce.held.keys().cloned().collect();
        for device in devices {
            let held = self.quiesce.held[&device];
            let Some(state) = self.callers.device_state(&device) else {
                continue;
            };
            // A buffer the IOMMU may still map stays quarantined whatever the quiesce says.
            if !held.unmap_failed && state.confirmed > held.failed_generation {
                self.quiesce.held.remove(&device);
                if self
                    .quiesce
                    .held
                    .values()
                    .any(|other| other.pool == held.pool)
                {
                    continue;
                }
                let (buffers, pages) = self.registry.release_quarantined(held.pool);
                info!(
                    "{device}: quiesce confirmed (generation {}); {buffers} quarantined buffers ({pages} pages) back in the pool",
                    state.confirmed
                );
            }
        }
    }

    /// What dmad checked at the last release of a buffer of `device`.
    pub fn last_reclaim(&self, device: &str) -> Option<Reclaim> {
        self.quiesce.reclaims.get(device).copied()
    }
}
