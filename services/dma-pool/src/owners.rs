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

/// One owner's figures, laid out for the allocation path: the quota as a plain limit
/// (`u64::MAX` for none) beside the charge it is compared with, and only what changes on a
/// plain allocate or release counted there (live pages are charged minus deferred pages).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OwnerEntry {
    owner: OwnerId,
    /// Live plus deferred pages: what the quota limits.
    charged_pages: u64,
    /// The quota, or `u64::MAX` when none is set.
    quota_limit: u64,
    live_buffers: u64,
    /// Pages of released buffers still mapped.
    deferred_pages: u64,
    /// Whether a quota is set (a quota of `u64::MAX` pages is still a quota).
    has_quota: bool,
}

impl OwnerEntry {
    /// A new entry holding nothing, without a quota.
    fn idle(owner: OwnerId) -> Self {
        OwnerEntry {
            owner,
            charged_pages: 0,
            quota_limit: u64::MAX,
            live_buffers: 0,
            deferred_pages: 0,
            has_quota: false,
        }
    }

    /// Holds nothing and has no quota: as if absent.
    fn is_idle(&self) -> bool {
        self.charged_pages == 0 && self.live_buffers == 0 && !self.has_quota
    }

    /// The public figures.
    fn usage(&self) -> OwnerUsage {
        OwnerUsage {
            live_buffers: self.live_buffers,
            live_pages: self.charged_pages - self.deferred_pages,
            deferred_pages: self.deferred_pages,
            quota_pages: self.has_quota.then_some(self.quota_limit),
        }
    }

    /// Charges a new live buffer of `pages` (checked by
    /// [`OwnerTable::check_charge`], with nothing changed since).
    #[inline(always)]
    pub(crate) fn charge(&mut self, pages: u64) {
        self.live_buffers += 1;
        self.charged_pages += pages;
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
            .map(|index| self.entries[index].usage())
            .unwrap_or_default()
    }

    /// Every owner with a charge (parked records included) or a quota, by id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (OwnerId, OwnerUsage)> + '_ {
        self.entries
            .iter()
            .filter(|entry| !entry.is_idle())
            .map(|entry| (entry.owner, entry.usage()))
    }

    /// Checks that charging `pages` more to `owner` is allowed and has room in the table;
    /// returns the index of the owner's entry (added idle if it had none) to
    /// [`charge`](Self::charge) once the buffer exists. `credit`: pages of the owner's
    /// charge that do not count (its parked records, see `buffers.rs`); zero on the fast
    /// path, which is stricter, so a refusal there is checked again with the credit.
    #[inline(always)]
    pub(crate) fn check_charge(
        &mut self,
        owner: OwnerId,
        pages: u64,
        credit: u64,
    ) -> Result<usize, PoolError> {
        let index = self.hint;
        let (index, entry) = match self.entries.get(index) {
            Some(entry) if entry.owner == owner => (index, entry),
            _ => {
                let index = self.find_or_insert(owner)?;
                (index, &self.entries[index])
            }
        };
        // No overflow: charges are bounded by the pools' pages (each under 2^32), and the
        // credit is part of the charge.
        if entry.charged_pages - credit + pages > entry.quota_limit {
            return Err(PoolError::OverQuota);
        }
        Ok(index)
    }

    /// Charges a new live buffer of `pages` to the entry at `index` (from
    /// [`check_charge`](Self::check_charge), with no entry added or removed since).
    #[inline(always)]
    pub(crate) fn charge(&mut self, index: usize, pages: u64) {
        self.entries[index].charge(pages);
    }

    /// [`check_charge`](Self::check_charge) away from the hint: finds or adds the entry and
    /// points the hint at it.
    fn find_or_insert(&mut self, owner: OwnerId) -> Result<usize, PoolError> {
        let index = match self.find(owner) {
            Some(index) => index,
            None => self.insert(owner)?,
        };
        self.hint = index;
        Ok(index)
    }

    /// The owner released a buffer of `pages`; `deferred` if it is still mapped (its pages
    /// stay charged until they return).
    #[inline(always)]
    pub(crate) fn released(&mut self, owner: OwnerId, pages: u64, deferred: bool) {
        let entry = match self.entries.get_mut(self.hint) {
            Some(entry) if entry.owner == owner => entry,
            _ => self.entry_mut(owner),
        };
        entry.live_buffers -= 1;
        if deferred {
            entry.deferred_pages += pages;
        } else {
            entry.charged_pages -= pages;
        }
    }

    /// A deferred buffer of `pages` lost its last mapping and returned its pages.
    pub(crate) fn deferred_freed(&mut self, owner: OwnerId, pages: u64) {
        let entry = self.entry_mut(owner);
        entry.deferred_pages -= pages;
        entry.charged_pages -= pages;
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
        let entry = &mut self.entries[index];
        entry.has_quota = quota_pages.is_some();
        entry.quota_limit = quota_pages.unwrap_or(u64::MAX);
        Ok(())
    }

    /// A charged owner's entry (through the hint when it names the owner).
    #[inline(always)]
    fn entry_mut(&mut self, owner: OwnerId) -> &mut OwnerEntry {
        let index = match self.entries.get(self.hint) {
            Some(entry) if entry.owner == owner => self.hint,
            _ => {
                let index = self.find(owner).expect("charged owner has an entry");
                self.hint = index;
                index
            }
        };
        &mut self.entries[index]
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
        self.entries.insert(index, OwnerEntry::idle(owner));
        Ok(index)
    }
}
