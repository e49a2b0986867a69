//! Per-owner charges and quotas across all pools, in a sorted table of fixed capacity.
//!
//! The table is a vector sorted by owner id whose capacity is reserved when the registry is
//! built, so an owner's first allocation inserts without allocating; lookups are binary
//! searches, short-cut by a hint at the entry found last (a driver allocates and frees in
//! bursts, so the same owner comes back).
//!
//! An owner that holds nothing and has no quota is *idle*: it is invisible to every reader,
//! but its entry stays where it is, so a process that frees its last buffer and allocates
//! again does not remove and re-insert (shifting the table) each time. Idle entries are
//! dropped when the table needs their room, so the capacity still counts only owners with a
//! charge or a quota.

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

impl OwnerEntry {
    /// Holds nothing and has no quota: as if absent.
    fn is_idle(&self) -> bool {
        self.usage == OwnerUsage::default()
    }
}

/// All owners with a charge or a quota (and some idle ones).
#[derive(Clone, Debug)]
pub(crate) struct OwnerTable {
    entries: Vec<OwnerEntry>,
    capacity: usize,
    /// Index of the entry found last; checked before use.
    hint: usize,
}

impl OwnerTable {
    /// A table for up to `capacity` owners.
    pub(crate) fn new(capacity: usize) -> Self {
        OwnerTable {
            entries: Vec::with_capacity(capacity),
            capacity,
            hint: 0,
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
        self.entries
            .iter()
            .filter(|entry| !entry.is_idle())
            .map(|entry| (entry.owner, entry.usage))
    }

    /// Checks that charging `pages` more to `owner` is allowed and has room in the table;
    /// returns the owner's entry (added idle if it had none) for [`charge`](Self::charge).
    #[inline]
    pub(crate) fn check_charge(&mut self, owner: OwnerId, pages: u64) -> Result<usize, PoolError> {
        let index = match self.find(owner) {
            Some(index) => index,
            None => self.insert(owner)?,
        };
        self.hint = index;
        let usage = &self.entries[index].usage;
        match usage.quota_pages {
            Some(quota) if usage.charged_pages().saturating_add(pages) > quota => {
                Err(PoolError::OverQuota)
            }
            _ => Ok(index),
        }
    }

    /// Charges a new live buffer of `pages` to the entry [`check_charge`](Self::check_charge)
    /// returned (nothing has changed the table since).
    #[inline]
    pub(crate) fn charge(&mut self, index: usize, pages: u64) {
        let usage = &mut self.entries[index].usage;
        usage.live_buffers += 1;
        usage.live_pages += pages;
    }

    /// The owner released a buffer of `pages`; `deferred` if it is still mapped.
    #[inline]
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
        let index = match self.find(owner) {
            Some(index) => index,
            None if quota_pages.is_none() => return Ok(()),
            None => self.insert(owner)?,
        };
        self.entries[index].usage.quota_pages = quota_pages;
        Ok(())
    }

    /// Applies `change` to a charged owner's figures.
    #[inline]
    fn update(&mut self, owner: OwnerId, change: impl FnOnce(&mut OwnerUsage)) {
        let index = self.find(owner).expect("charged owner has an entry");
        self.hint = index;
        change(&mut self.entries[index].usage);
    }

    /// The entry of `owner`, if it has one (possibly idle).
    #[inline]
    fn find(&self, owner: OwnerId) -> Option<usize> {
        if self
            .entries
            .get(self.hint)
            .is_some_and(|entry| entry.owner == owner)
        {
            return Some(self.hint);
        }
        self.entries
            .binary_search_by_key(&owner, |entry| entry.owner)
            .ok()
    }

    /// Adds an idle entry for `owner` (which has none), dropping idle entries first if the
    /// table is full; [`PoolError::OutOfMemory`] if every entry has a charge or a quota.
    fn insert(&mut self, owner: OwnerId) -> Result<usize, PoolError> {
        if self.entries.len() >= self.capacity {
            self.entries.retain(|entry| !entry.is_idle());
            if self.entries.len() >= self.capacity {
                return Err(PoolError::OutOfMemory);
            }
        }
        let index = self
            .entries
            .binary_search_by_key(&owner, |entry| entry.owner)
            .expect_err("owner has no entry");
        self.entries.insert(
            index,
            OwnerEntry {
                owner,
                usage: OwnerUsage::default(),
            },
        );
        Ok(index)
    }
}
