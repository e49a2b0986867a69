//! The registry of every pool dmad serves, the reserved regions they are carved from, and the
//! owner quotas that span them.
//!
//! Pools live in slots; a [`PoolId`] names a slot and a declaration serial, so handles into a
//! retired pool stay stale after the slot is reused. Devices are found by name with a scan of
//! the (few) pools, which allocates nothing.

mod buffers;
mod declare;
mod global;
mod poison;
mod quarantine;
mod shares;

pub use declare::MAX_POOL_PAGES;

use alloc::vec::Vec;

use crate::owners::{OwnerTable, DEFAULT_OWNER_CAPACITY};
use crate::{OwnerId, OwnerUsage, Pool, PoolError, PoolId, ReservedRegion};

/// Every pool, reserved region and owner charge of one dmad.
#[derive(Clone, Debug)]
pub struct PoolRegistry {
    reserved: Vec<ReservedRegion>,
    pools: Vec<Option<Pool>>,
    next_serial: u32,
    owners: OwnerTable,
    /// The global coherent pool (see `global.rs`).
    global: Option<PoolId>,
    /// The slot [`device_index`](Self::device_index) tries first: the last one an
    /// allocation used. Only a hint; it is checked before use.
    device_hint: usize,
    /// Whether pools poison freed pages (`poison.rs`); off unless asked for.
    poisoning: bool,
}

impl Default for PoolRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl PoolRegistry {
    /// An empty registry tracking up to [`DEFAULT_OWNER_CAPACITY`] owners at once.
    pub fn new() -> Self {
        Self::with_owner_capacity(DEFAULT_OWNER_CAPACITY)
    }

    /// An empty registry tracking up to `owners` owners (with charges or quotas) at once.
    /// The owner table is allocated here; an allocation by one owner too many is refused with
    /// [`PoolError::OutOfMemory`].
    pub fn with_owner_capacity(owners: usize) -> Self {
        PoolRegistry {
            reserved: Vec::new(),
            pools: Vec::new(),
            next_serial: 0,
            owners: OwnerTable::new(owners),
            global: None,
            device_hint: 0,
            poisoning: false,
        }
    }

    /// The pool serving `device`.
    pub fn pool_for_device(&self, device: &str) -> Result<&Pool, PoolError> {
        self.pools()
            .find(|pool| pool.device() == device)
            .ok_or(PoolError::UnknownDevice)
    }

    /// The pool in slot `index`, if that slot holds one.
    pub fn pool_by_index(&self, index: usize) -> Option<&Pool> {
        self.pools.get(index)?.as_ref()
    }

    /// The pool `id` names, if it has not been retired.
    pub fn pool(&self, id: PoolId) -> Option<&Pool> {
        self.pool_by_index(id.index())
            .filter(|pool| pool.id() == id)
    }

    /// Every pool, by slot.
    pub fn pools(&self) -> impl Iterator<Item = &Pool> {
        self.pools.iter().flatten()
    }

    /// Every reserved region, in the order added.
    pub fn reserved_regions(&self) -> impl Iterator<Item = ReservedRegion> + '_ {
        self.reserved.iter().copied()
    }

    /// Sets (`Some`) or clears (`None`) `owner`'s quota in pages across all pools. A quota
    /// below current use refuses new allocations and takes nothing back.
    pub fn set_owner_quota(&mut self, owner: OwnerId, pages: Option<u64>) -> Result<(), PoolError> {
        self.owners.set_quota(owner, pages)
    }

    /// Sets (`Some`) or clears (`None`) the page quota of `device`'s pool: the most pages its
    /// buffers (live or awaiting unmap) may hold at once.
    pub fn set_device_quota(&mut self, device: &str, pages: Option<u64>) -> Result<(), PoolError> {
        let index = self.device_index(device)?;
        self.slot_mut(index).set_device_quota(pages);
        Ok(())
    }

    /// `owner`'s buffers, pages and quota across all pools.
    pub fn owner_usage(&self, owner: OwnerId) -> OwnerUsage {
        self.without_parked(owner, self.owners.usage(owner))
    }

    /// Every owner with a charge or a quota, by id (for text tables).
    pub fn owners(&self) -> impl Iterator<Item = (OwnerId, OwnerUsage)> + '_ {
        self.owners
            .iter()
            .map(|(owner, usage)| (owner, self.without_parked(owner, usage)))
            .filter(|(_, usage)| {
                usage.live_buffers > 0 || usage.charged_pages() > 0 || usage.quota_pages.is_some()
            })
    }

    /// An owner's figures from the owner table less the records parked with it (charged to
    /// it there, but not its buffers; see `buffers.rs`).
    fn without_parked(&self, owner: OwnerId, mut usage: OwnerUsage) -> OwnerUsage {
        let (records, pages) = self.parked_of(owner);
        usage.live_buffers -= records;
        usage.live_pages -= pages;
        usage
    }

    /// Checks every pool's invariants and that the owner table agrees with the pools. For
    /// tests; O(pages + buffers).
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        for pool in self.pools() {
            pool.check_invariants()?;
        }
        for (owner, usage) in self.owners() {
            let mut live_buffers = 0;
            let mut live_pages = 0;
            let mut deferred_pages = 0;
            for buffer in self
                .pools()
                .flat_map(Pool::buffers)
                .filter(|buffer| buffer.owner == owner)
            {
                let pages = buffer.size_bytes >> crate::PAGE_SHIFT;
                if buffer.released {
                    deferred_pages += pages;
                } else {
                    live_buffers += 1;
                    live_pages += pages;
                }
            }
            if (live_buffers, live_pages, deferred_pages)
                != (usage.live_buffers, usage.live_pages, usage.deferred_pages)
            {
                return Err("an owner's charges disagree with its buffers");
            }
        }
        let (mut live_buffers, mut deferred_pages) = (0, 0);
        for buffer in self.pools().flat_map(Pool::buffers) {
            if buffer.released {
                deferred_pages += buffer.size_bytes >> crate::PAGE_SHIFT;
            } else {
                live_buffers += 1;
            }
        }
        let charged_buffers: u64 = self.owners().map(|(_, usage)| usage.live_buffers).sum();
        let charged_deferred: u64 = self.owners().map(|(_, usage)| usage.deferred_pages).sum();
        if (live_buffers, deferred_pages) != (charged_buffers, charged_deferred) {
            return Err("a buffer is charged to no owner");
        }
        Ok(())
    }

    /// The slot of the pool serving `device`: the slot found last if it still serves it
    /// (a driver allocates in bursts), else a scan of the slots.
    #[inline(always)]
    fn device_index(&self, device: &str) -> Result<usize, PoolError> {
        match self.pools.get(self.device_hint) {
            Some(Some(pool)) if pool.device() == device => Ok(self.device_hint),
            _ => self.scan_device(device),
        }
    }

    /// [`device_index`](Self::device_index) without the hint.
    fn scan_device(&self, device: &str) -> Result<usize, PoolError> {
        scan_device(&self.pools, device)
    }

    /// The pool `id` names, mutably, or [`PoolError::BadHandle`] if it was retired.
    #[inline(always)]
    fn pool_mut(&mut self, id: PoolId) -> Result<&mut Pool, PoolError> {
        // A pool's id names its own slot, so the serial alone tells a retired declaration.
        match self.pools.get_mut(id.index()) {
            Some(Some(pool)) if pool.id().serial == id.serial => Ok(pool),
            _ => Err(PoolError::BadHandle),
        }
    }

    /// The pool in an occupied slot, mutably.
    fn slot_mut(&mut self, index: usize) -> &mut Pool {
        self.pools[index].as_mut().expect("slot found occupied")
    }
}

/// The slot of the pool serving `device`, by a scan of the slots.
fn scan_device(pools: &[Option<Pool>], device: &str) -> Result<usize, PoolError> {
    pools
        .iter()
        .position(|slot| slot.as_ref().is_some_and(|pool| pool.device() == device))
        .ok_or(PoolError::UnknownDevice)
}

/// The pool serving `device`, mutably, found as
/// [`PoolRegistry::device_index`] finds it (the slot `hint` first); `hint` moves to it.
/// Takes the registry's fields rather than the registry, so the owner table stays free to
/// borrow beside the pool.
#[inline(always)]
fn device_pool_mut<'a>(
    pools: &'a mut [Option<Pool>],
    hint: &mut usize,
    device: &str,
) -> Result<&'a mut Pool, PoolError> {
    let index = *hint;
    if !matches!(pools.get(index), Some(Some(pool)) if pool.device() == device) {
        return scan_device_mut(pools, hint, device);
    }
    match pools.get_mut(index) {
        Some(Some(pool)) => Ok(pool),
        _ => unreachable!("slot checked above"),
    }
}

/// [`device_pool_mut`] past a stale hint.
fn scan_device_mut<'a>(
    pools: &'a mut [Option<Pool>],
    hint: &mut usize,
    device: &str,
) -> Result<&'a mut Pool, PoolError> {
    let index = scan_device(pools, device)?;
    *hint = index;
    match pools.get_mut(index) {
        Some(Some(pool)) => Ok(pool),
        _ => unreachable!("slot found occupied"),
    }
}
