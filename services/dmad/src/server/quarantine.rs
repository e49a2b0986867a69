//! Reclaiming a buffer in the crate doc's order (unmap from the device's IOMMU domain, then
//! back to the pool or into quarantine), and lifting a quarantine once the kernel confirms a
//! later quiesce. One quarantine for both reasons: see `crate::quiesce`.

use super::Server;
use crate::quiesce::{Held, Reclaim};
use crate::DeviceMapping;
use alloc::string::String;
use alloc::vec::Vec;
use dma_pool::{BufferHandle, OwnerId, PoolError, PAGE_SIZE};
use log::{info, warn};

/// Who owns the pages a starting dmad holds back ([`Server::hold_back_if_unquiet`]): pid 0,
/// which no client of dmad has.
const START_UP_OWNER: OwnerId = OwnerId(0);

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
        let unmapped = self.unmap_owned(mapping);
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
            self.hold(device, handle.pool(), state.generation, unmap_failed);
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

    /// At start-up, right after `device`'s pool is declared: if the kernel says the device's
    /// last quiesce failed, a dmad that died cannot tell which of its pages the device may
    /// still write, so the whole pool is held back — allocated to [`START_UP_OWNER`] and
    /// quarantined at once — until a later quiesce is confirmed, when
    /// [`lift_quarantines`](Self::lift_quarantines) returns it like any quarantine.
    /// Returns the pages held back.
    pub(super) fn hold_back_if_unquiet(&mut self, device: &str) -> u64 {
        let Some(state) = self.callers.device_state(device) else {
            return 0;
        };
        if state.is_confirmed() {
            return 0;
        }
        let Ok(pages) = self
            .registry
            .pool_for_device(device)
            .map(|pool| pool.pages())
        else {
            return 0;
        };
        let mut held_pages = 0;
        let mut pool = None;
        // Largest power-of-two pieces first (an allocation is a power of two), down to a
        // page: afterwards nothing of the pool is free.
        let mut piece = 1u64 << (63 - pages.max(1).leading_zeros());
        while piece > 0 {
            let mut skip_zeroing = |_: u64, _: u64| {};
            match self.registry.alloc(
                device,
                piece * PAGE_SIZE,
                None,
                START_UP_OWNER,
                &mut skip_zeroing,
            ) {
                Ok(allocation) => {
                    pool = Some(allocation.handle.pool());
                    held_pages += self
                        .registry
                        .quarantine(allocation.handle, START_UP_OWNER)
                        .unwrap_or(0);
                }
                Err(_) => piece /= 2,
            }
        }
        if let Some(pool) = pool {
            warn!(
                "{device}: last quiesce (generation {}) not confirmed; its whole pool ({held_pages} pages) quarantined until one is",
                state.generation
            );
            self.hold(device, pool, state.generation, false);
        }
        held_pages
    }

    /// Records that `device`'s buffers in `pool` are quarantined until a quiesce after
    /// `failed_generation` is confirmed.
    fn hold(
        &mut self,
        device: &str,
        pool: dma_pool::PoolId,
        failed_generation: u64,
        unmap_failed: bool,
    ) {
        let held = self
            .quiesce
            .held
            .entry(String::from(device))
            .or_insert(Held {
                pool,
                failed_generation,
                unmap_failed,
            });
        held.failed_generation = held.failed_generation.max(failed_generation);
        held.unmap_failed |= unmap_failed;
    }

    /// What dmad checked at the last release of a buffer of `device`.
    pub fn last_reclaim(&self, device: &str) -> Option<Reclaim> {
        self.quiesce.reclaims.get(device).copied()
    }
}
