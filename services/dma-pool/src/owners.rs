//! Per-owner charges and quotas across all pools, in a sorted table of fixed capacity.
//!
//! The table is a vector sorted by owner id whose capacity is reserved when the registry is
//! built, so an owner's first allocation inserts without allocating; lookups are binary
//! searches. An entry disappears when its owner holds nothing and has no quota.

use alloc::vec::Vec;

use crate::{OwnerId, OwnerUsage, PoolError};

/// Owners the registry can track at once unless told otherwise.
pub const DEFAULT_OWNER_CAPACITY: usize = 1024;

/// One owner's figures.
#[derive(Clone, Copy, Debug)]
struct OwnerEntry {
    owner: OwnerId,
    usage: OwnerUsage,
}

/// All owners with a charge or a quota.
#[derive(Clone, Debug)]
pub(crate) struct OwnerTable {
    entries: Vec<OwnerEntry>,
    capacity: usize,
}

impl OwnerTable {
    /// A table for up to `capacity` owners.
    pub(crate) fn new(capacity: usize) -> Self {
        OwnerTable {
            entries: Vec::with_capacity(capacity),
            capacity,
        }
    }

    /// The owner's figures (all zero if it has none).
    pub(crate) fn usage(&self, owner: OwnerId) -> OwnerUsage {
        self.find(owner)
            .map(|index| self.entries[index].usage)
            .unwrap_or_default()
    }

    /// Every owner with a charge or a quota, by id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (OwnerId, OwnerUsage)> + '_ {
        self.entries.iter().map(|entry| (entry.owner, entry.usage))
    }

    /// Checks that charging `pages` more to `owner` is allowed and has room in the table.
    pub(crate) fn check_charge(&self, owner: OwnerId, pages: u64) -> Result<(), PoolError> {
        match self.find(owner) {
            Some(index) => {
                let usage = &self.entries[index].usage;
                match usage.quota_pages {
                    Some(quota) if usage.charged_pages().saturating_add(pages) > quota => {
                        Err(PoolError::OverQuota)
                    }
                    _ => Ok(()),
                }
            }
            None if self.entries.len() >= self.capacity => Err(PoolError::OutOfMemory),
            None => Ok(()),
        }
    }

    /// Charges a new live buffer of `pages` to `owner` (after [`check_charge`](Self::check_charge)).
    pub(crate) fn charge(&mut self, owner: OwnerId, pages: u64) {
        let index = self.find_or_insert(owner);
        let usage = &mut self.entries[index].usage;
        usage.live_buffers += 1;
        usage.live_pages += pages;
    }

    /// The owner released a buffer of `pages`; `deferred` if it is still mapped.
    pub(crate) fn released(&mut self, owner: OwnerId, pages: u64, deferred: bool) {
        self.update(owner, |usage| {
            usage.live_buffers -= 1;
            usage.live_pages -= pages;
            if deferred {
                usage.deferred_pages += pages;
            }
        });
    }

    /// A deferred buffer of `pages` lost its last mapping and returned its pages.
    pub(crate) fn deferred_freed(&mut self, owner: OwnerId, pages: u64) {
        self.update(owner, |usage| usage.deferred_pages -= pages);
    }

    /// Sets or clears the owner's quota.
    pub(crate) fn set_quota(
        &mut self,
        owner: OwnerId,
        quota_pages: Option<u64>,
    ) -> Result<(), PoolError> {
        if self.find(owner).is_none() {
            if quota_pages.is_none() {
                return Ok(());
            }
            if self.entries.len() >= self.capacity {
                return Err(PoolError::OutOfMemory);
            }
        }
        self.update_or_insert(owner, |usage| usage.quota_pages = quota_pages);
        Ok(())
    }

    fn update(&mut self, owner: OwnerId, change: impl FnOnce(&mut OwnerUsage)) {
        let index = self.find(owner).expect("charged owner has an entry");
        change(&mut self.entries[index].usage);
        self.prune(index);
    }

    fn update_or_insert(&mut self, owner: OwnerId, change: impl FnOnce(&mut OwnerUsage)) {
        let index = self.find_or_insert(owner);
        change(&mut self.entries[index].usage);
        self.prune(index);
    }

    fn prune(&mut self, index: usize) {
        if self.entries[index].usage == OwnerUsage::default() {
            self.entries.remove(index);
        }
    }

    fn find(&self, owner: OwnerId) -> Option<usize> {
        self.entries
            .binary_search_by_key(&owner, |entry| entry.owner)
            .ok()
    }

    fn find_or_insert(&mut self, owner: OwnerId) -> usize {
        match self
            .entries
            .binary_search_by_key(&owner, |entry| entry.owner)
        {
            Ok(index) => index,
            Err(index) => {
                debug_assert!(
                    self.entries.len() < self.capacity,
                    "owner table checked for room"
                );
                self.entries.insert(
                    index,
                    OwnerEntry {
                        owner,
                        usage: OwnerUsage::default(),
                    },
                );
                index
            }
        }
    }
}
