//! Applying one step to the registry and the model, checking the registry did what the model
//! predicted.

use dma_pool::{PoolError, Release, ReleaseReport, Unmapped, PAGE_SIZE};

use super::{owner_id, Model, Step, DEVICES};

impl Model {
    /// Applies `step` and compares its result with the prediction.
    pub fn apply(&mut self, step: Step) -> Result<(), String> {
        match step {
            Step::Declare {
                device,
                pages,
                offset,
            } => {
                let expected = if self.pools[device].is_some() {
                    Err(PoolError::InvalidRequest("device already has a pool"))
                } else {
                    Ok(())
                };
                let result = self.declare_pool(device, pages, offset).map(|_| ());
                ensure!(
                    result == expected,
                    "declare: {result:?}, expected {expected:?}"
                );
            }
            Step::Retire { device } => {
                let expected = match &self.pools[device] {
                    None => Err(PoolError::UnknownDevice),
                    Some(_) if self.buffers.iter().any(|buffer| buffer.device == device) => {
                        Err(PoolError::Busy)
                    }
                    Some(pool) => Ok(pool.id),
                };
                let result = self.registry.retire(DEVICES[device]);
                ensure!(
                    result == expected,
                    "retire: {result:?}, expected {expected:?}"
                );
                if result.is_ok() {
                    self.pools[device] = None;
                    self.stale
                        .retain(|(handle, _)| Some(handle.pool()) != expected.ok());
                }
            }
            Step::Alloc {
                device,
                size,
                align_shift,
                owner,
            } => self.alloc(device, size, align_shift, owner_id(owner))?,
            Step::Release { pick, right_owner } => {
                let total = self.buffers.len() + self.stale.len();
                if total == 0 {
                    return Ok(());
                }
                let pick = pick % total;
                let (handle, owner, index) = if pick < self.buffers.len() {
                    let buffer = &self.buffers[pick];
                    (buffer.handle, buffer.owner, Some(pick))
                } else {
                    let (handle, owner) = self.stale[pick - self.buffers.len()];
                    (handle, owner, None)
                };
                let caller = if right_owner {
                    owner
                } else {
                    owner_id(owner.0 % 3)
                };
                let expected = match index {
                    Some(index) if caller == owner && !self.buffers[index].released => {
                        self.predict_release(index)
                    }
                    _ => Err(PoolError::BadHandle),
                };
                let result = self.registry.release(handle, caller);
                ensure!(
                    result == expected,
                    "release: {result:?}, expected {expected:?}"
                );
                if let Some(index) = index.filter(|_| result.is_ok()) {
                    self.commit_release(index);
                }
            }
            Step::ReleaseAddress { pick, page } => {
                if self.buffers.is_empty() {
                    return Ok(());
                }
                let chosen = self.buffers[pick % self.buffers.len()].clone();
                let pool = self.pools[chosen.device].as_ref().unwrap();
                let target = chosen.first_page + page;
                let address = pool.device_base + target * PAGE_SIZE;
                let found = self.buffers.iter().position(|buffer| {
                    buffer.device == chosen.device
                        && buffer.first_page == target
                        && !buffer.released
                        && buffer.owner == chosen.owner
                });
                let expected = match found {
                    Some(index) => self.predict_release(index),
                    None => Err(PoolError::BadHandle),
                };
                let result =
                    self.registry
                        .release_address(DEVICES[chosen.device], address, chosen.owner);
                ensure!(
                    result == expected,
                    "release_address: {result:?}, expected {expected:?}"
                );
                if let Some(index) = found {
                    self.commit_release(index);
                }
            }
            Step::Map { pick } => {
                if self.buffers.is_empty() {
                    return Ok(());
                }
                let index = pick % self.buffers.len();
                let buffer = self.buffers[index].clone();
                let size = buffer.pages * PAGE_SIZE;
                let check = self.registry.check_map(
                    buffer.handle,
                    buffer.owner,
                    size - PAGE_SIZE,
                    PAGE_SIZE,
                );
                let beyond = self
                    .registry
                    .check_map(buffer.handle, buffer.owner, size, PAGE_SIZE);
                let result = self.registry.map_added(buffer.handle, buffer.owner);
                if buffer.released {
                    ensure!(
                        result == Err(PoolError::BadHandle) && check == Err(PoolError::BadHandle),
                        "mapping a released buffer: {result:?}"
                    );
                    return Ok(());
                }
                let pool = self.pools[buffer.device].as_ref().unwrap();
                let expected_phys =
                    pool.phys_base + (buffer.first_page + buffer.pages - 1) * PAGE_SIZE;
                ensure!(
                    check.map(|range| range.phys) == Ok(expected_phys),
                    "check_map of the last page: {check:?}"
                );
                ensure!(beyond.is_err(), "check_map past the end succeeded");
                let token = result.map_err(|error| format!("map_added: {error:?}"))?;
                self.buffers[index].mappings += 1;
                self.tokens.push((token, buffer.handle));
            }
            Step::Unmap { pick } => {
                if self.tokens.is_empty() {
                    return Ok(());
                }
                let (token, handle) = self.tokens.swap_remove(pick % self.tokens.len());
                let index = self
                    .buffers
                    .iter()
                    .position(|buffer| buffer.handle == handle)
                    .unwrap();
                let buffer = &mut self.buffers[index];
                buffer.mappings -= 1;
                let expected = match (buffer.mappings, buffer.released) {
                    (0, true) => Unmapped::Freed {
                        pages: buffer.pages,
                    },
                    (0, false) => Unmapped::Unmapped,
                    (mappings, _) => Unmapped::StillMapped { mappings },
                };
                let result = self.registry.map_removed(token);
                ensure!(
                    result == Ok(expected),
                    "map_removed: {result:?}, expected {expected:?}"
                );
                if let Unmapped::Freed { .. } = expected {
                    self.free_buffer(index);
                }
            }
            Step::ReleaseAll { owner } => {
                let owner = owner_id(owner);
                let mut expected = ReleaseReport::default();
                let mut index = 0;
                while index < self.buffers.len() {
                    let buffer = &mut self.buffers[index];
                    if buffer.owner != owner || buffer.released {
                        index += 1;
                    } else if buffer.mappings > 0 {
                        buffer.released = true;
                        expected.deferred_buffers += 1;
                        expected.deferred_pages += buffer.pages;
                        index += 1;
                    } else {
                        expected.freed_buffers += 1;
                        expected.freed_pages += buffer.pages;
                        self.free_buffer(index);
                    }
                }
                let report = self.registry.release_all(owner);
                ensure!(
                    report == expected,
                    "release_all: {report:?}, expected {expected:?}"
                );
                ensure!(
                    self.registry.owner_usage(owner).live_buffers == 0,
                    "release_all left live buffers"
                );
            }
            Step::OwnerQuota { owner, pages } => {
                let owner = owner_id(owner);
                match pages {
                    Some(pages) => self.quotas.insert(owner, pages),
                    None => self.quotas.remove(&owner),
                };
                self.registry
                    .set_owner_quota(owner, pages)
                    .map_err(|error| format!("owner quota: {error:?}"))?;
            }
            Step::DeviceQuota { device, pages } => {
                let result = self.registry.set_device_quota(DEVICES[device], pages);
                match self.pools[device].as_mut() {
                    Some(pool) => {
                        pool.device_quota = pages;
                        ensure!(result.is_ok(), "device quota: {result:?}");
                    }
                    None => ensure!(
                        result == Err(PoolError::UnknownDevice),
                        "device quota: {result:?}"
                    ),
                }
            }
        }
        Ok(())
    }

    /// What releasing live buffer `index` by its owner returns.
    fn predict_release(&self, index: usize) -> Result<Release, PoolError> {
        let buffer = &self.buffers[index];
        Ok(match buffer.mappings {
            0 => Release::Freed {
                pages: buffer.pages,
            },
            mappings => Release::Deferred {
                pages: buffer.pages,
                mappings,
            },
        })
    }

    /// Applies a successful release of live buffer `index` to the model.
    fn commit_release(&mut self, index: usize) {
        if self.buffers[index].mappings == 0 {
            self.free_buffer(index);
        } else {
            self.buffers[index].released = true;
        }
    }
}
