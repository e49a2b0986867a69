//! Comparing the registry with the model, and draining everything at the end of a run.

use dma_pool::{FreeExtent, OwnerUsage, PAGE_SIZE};

use super::{owner_id, Model, DEVICES};

impl Model {
    /// Checks pools, buffers, free extents and owner charges against the model.
    pub fn compare(&self) -> Result<(), String> {
        self.registry.check_invariants()?;
        for (device, model_pool) in self.pools.iter().enumerate() {
            let found = self.registry.pool_for_device(DEVICES[device]).ok();
            let (pool, model_pool) = match (found, model_pool) {
                (None, None) => continue,
                (Some(pool), Some(model_pool)) => (pool, model_pool),
                _ => return Err(format!("pool {device} presence differs")),
            };
            let mut actual: Vec<_> = pool
                .buffers()
                .map(|info| {
                    (
                        info.phys,
                        info.size_bytes / PAGE_SIZE,
                        info.owner,
                        info.mappings,
                        info.released,
                        info.handle,
                    )
                })
                .collect();
            let mut expected: Vec<_> = self
                .buffers
                .iter()
                .filter(|buffer| buffer.device == device)
                .map(|buffer| {
                    let phys = model_pool.phys_base + buffer.first_page * PAGE_SIZE;
                    (
                        phys,
                        buffer.pages,
                        buffer.owner,
                        buffer.mappings,
                        buffer.released,
                        buffer.handle,
                    )
                })
                .collect();
            actual.sort_by_key(|entry| entry.0);
            expected.sort_by_key(|entry| entry.0);
            if actual != expected {
                return Err(format!(
                    "buffers of {device}: {actual:?}, expected {expected:?}"
                ));
            }
            let extents = model_extents(&model_pool.free);
            if pool.free_extents() != extents {
                return Err(format!(
                    "free extents of {device}: {:?}, expected {extents:?}",
                    pool.free_extents()
                ));
            }
            let stats = pool.stats();
            let free = model_pool.free.iter().filter(|&&free| free).count() as u64;
            if stats.free_pages != free
                || stats.free_pages + model_pool.used_pages() != stats.total_pages
            {
                return Err("free plus live is not the pool".into());
            }
        }
        for owner in (0..3).map(owner_id) {
            let mut usage = OwnerUsage {
                quota_pages: self.quotas.get(&owner).copied(),
                ..OwnerUsage::default()
            };
            for buffer in self.buffers.iter().filter(|buffer| buffer.owner == owner) {
                if buffer.released {
                    usage.deferred_pages += buffer.pages;
                } else {
                    usage.live_buffers += 1;
                    usage.live_pages += buffer.pages;
                }
            }
            if self.registry.owner_usage(owner) != usage {
                return Err(format!(
                    "owner {owner:?}: {:?}, expected {usage:?}",
                    self.registry.owner_usage(owner)
                ));
            }
        }
        Ok(())
    }

    /// Releases everything every owner holds, removes every mapping, and checks that every
    /// pool is one free run again with its largest block back.
    pub fn drain(&mut self) -> Result<(), String> {
        for owner in (0..3).map(owner_id) {
            self.registry.release_all(owner);
        }
        for (token, _) in self.tokens.drain(..) {
            self.registry
                .map_removed(token)
                .map_err(|error| format!("drain unmap: {error:?}"))?;
        }
        self.buffers.clear();
        for (device, model_pool) in self.pools.iter_mut().enumerate() {
            let Some(model_pool) = model_pool else {
                continue;
            };
            model_pool.free.iter_mut().for_each(|free| *free = true);
            let pool = self.registry.pool_for_device(DEVICES[device]).unwrap();
            let pages = model_pool.free.len() as u64;
            if pool.free_extents()
                != [FreeExtent {
                    first_page: 0,
                    pages,
                }]
            {
                return Err(format!(
                    "pool {device} did not coalesce: {:?}",
                    pool.free_extents()
                ));
            }
            let stats = pool.stats();
            let largest_order = (0..32)
                .rev()
                .find(|&order| model_pool.fit(order, order).is_some())
                .unwrap();
            if stats.largest_free_run_pages != pages
                || stats.largest_free_block_pages != 1 << largest_order
            {
                return Err(format!("pool {device} after draining: {stats:?}"));
            }
        }
        self.compare()
    }
}

/// Maximal runs of free pages.
fn model_extents(free: &[bool]) -> Vec<FreeExtent> {
    let mut extents: Vec<FreeExtent> = Vec::new();
    for (page, &is_free) in free.iter().enumerate() {
        if !is_free {
            continue;
        }
        match extents.last_mut() {
            Some(extent) if extent.first_page + extent.pages == page as u64 => extent.pages += 1,
            _ => extents.push(FreeExtent {
                first_page: page as u64,
                pages: 1,
            }),
        }
    }
    extents
}
