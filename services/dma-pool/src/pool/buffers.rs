//! A pool's buffer operations: allocate, look up, release, map checks and mapping counts.
//!
//! Each operation checks everything before changing anything, so a refused request leaves
//! the pool as it was (apart from `failed_allocations` for resource refusals).

use super::Pool;
use crate::buffers::{BufferRecord, RecordState};
use crate::request::BufferRequest;
use crate::space::NO_TAG;
use crate::{
    BufferHandle, BufferInfo, MapRange, OwnerId, PoolError, Release, Unmapped, PAGE_SHIFT,
    PAGE_SIZE,
};

/// How many free runs above a mask [`Pool::allocate_below`] sets aside before it gives up.
pub(crate) const MASK_TRIES: usize = 32;

impl Pool {
    /// Reserves pages for `request` (below `limit`, the request's
    /// [`limit_frame`](Self::limit_frame)) and records the buffer; zeroing is the caller's.
    /// Checks, in order: the device quota, room in the buffer table, free pages. Returns the
    /// handle, the buffer's first pool page, and whether `owner` must be charged for it:
    /// false when it revived a record parked by `owner` itself, which is charged already.
    /// `uncharge` is called with the owner and pages of every parked record vacated or
    /// revived for another owner on the way (their charges go).
    #[inline(always)]
    pub(crate) fn allocate(
        &mut self,
        request: BufferRequest,
        limit: Option<u64>,
        owner: OwnerId,
        uncharge: &mut impl FnMut(OwnerId, u64),
    ) -> Result<(BufferHandle, u64, bool), PoolError> {
        let pages = request.pages();
        if self
            .device_quota
            .is_some_and(|quota| self.used_pages().saturating_add(pages) > quota)
        {
            self.failed_allocations += 1;
            return Err(PoolError::OverQuota);
        }
        // The hot block of the order first (no constraint but the alignment): a driver's
        // usual allocation, most often the record parked there by its own last release.
        let hot = match limit {
            None => self.space.allocate_hot(request.order, request.align_order),
            Some(_) => None,
        };
        let found = match hot {
            Some(found) => Some(found),
            None => self.allocate_structural(request, limit, uncharge),
        };
        let Some((first_page, tag)) = found else {
            self.failed_allocations += 1;
            return Err(PoolError::OutOfMemory);
        };
        debug_assert!(request.admits(self.addresses(first_page).1));
        let (slot, generation, charge) = if tag != NO_TAG {
            // The pages a parked record describes: take the record back as it stands. Its
            // owner is still charged for it; if that is someone else, the charge moves.
            let (generation, parked_with) = self.buffers.revive(tag, owner);
            if parked_with != owner {
                uncharge(parked_with, pages);
            }
            (tag, generation, parked_with != owner)
        } else {
            if self.buffers.no_vacant() {
                // Some record must be parked, else the table is full: free one.
                let Some(parked) = self.space.untag_any() else {
                    // Full, found out after taking an untagged hot block: it goes back to
                    // its hot slot, as it was.
                    self.space.release(first_page, request.order);
                    self.failed_allocations += 1;
                    return Err(PoolError::OutOfMemory);
                };
                let (parked_with, pages) = self.buffers.unpark(parked);
                uncharge(parked_with, pages);
            }
            let (slot, generation) =
                self.buffers
                    .insert(first_page as u32, request.order as u8, owner);
            (slot, generation, true)
        };
        let free = self.space.free_pages();
        if free < self.low_water_free_pages {
            self.low_water_free_pages = free;
        }
        let handle = BufferHandle {
            pool: self.id,
            slot,
            generation,
        };
        Ok((handle, first_page, charge))
    }

    /// [`allocate`](Self::allocate) past the hot block of the request's order: `None` at
    /// once when the buffer table is full (no vacant record and none parked: every parked
    /// record is a tagged hot block), else the structures below `limit` or anywhere.
    #[inline]
    fn allocate_structural(
        &mut self,
        request: BufferRequest,
        limit: Option<u64>,
        uncharge: &mut impl FnMut(OwnerId, u64),
    ) -> Option<(u64, u32)> {
        if self.buffers.no_vacant() && !self.space.has_tags() {
            None
        } else if let Some(limit) = limit {
            self.allocate_below(request, limit, uncharge)
        } else {
            let buffers = &mut self.buffers;
            self.space
                .allocate_tagged(request.order, request.align_order, &mut |tag| {
                    let (parked_with, pages) = buffers.unpark(tag);
                    uncharge(parked_with, pages);
                })
        }
    }

    /// The absolute device frame a masked request's buffer must end at or before, or `None`
    /// when the whole pool lies at or below the mask. `EINVAL` when no aligned run of the
    /// request's size lies below the mask at all (the request can never be met here).
    #[inline(always)]
    pub(crate) fn limit_frame(&self, request: &BufferRequest) -> Result<Option<u64>, PoolError> {
        let Some(mask) = request.mask else {
            return Ok(None);
        };
        let last = self.device_base + (self.size_bytes() - 1);
        if last <= mask {
            return Ok(None);
        }
        // `mask + 1` is a power of two (checked by the request) and cannot overflow here.
        let limit = (mask + 1) >> PAGE_SHIFT;
        let first_frame = self.device_base >> PAGE_SHIFT;
        let first_aligned = first_frame.next_multiple_of(1 << request.align_order);
        if first_aligned.saturating_add(request.pages()) > limit {
            return Err(PoolError::InvalidRequest(
                "no buffer of that size and alignment lies below the mask",
            ));
        }
        Ok(Some(limit))
    }

    /// Allocates a buffer ending at or before absolute device frame `limit`: takes aligned
    /// runs from the free space until one lies below the limit, then gives back the others.
    ///
    /// Aligned runs of one size tile the pool, so taking one never destroys another
    /// candidate: the search is exact as long as fewer than [`MASK_TRIES`] free aligned runs
    /// lie above the limit before one below it is reached. Past that it answers "nothing"
    /// (`ENOMEM`) rather than search on; it never returns a buffer above the limit. The
    /// allocator prefers low addresses (the lowest split chunk first), so in practice the
    /// first or second run taken is the one.
    fn allocate_below(
        &mut self,
        request: BufferRequest,
        limit: u64,
        uncharge: &mut impl FnMut(OwnerId, u64),
    ) -> Option<(u64, u32)> {
        let first_frame = self.device_base >> PAGE_SHIFT;
        let mut held = [0u64; MASK_TRIES];
        let mut held_count = 0;
        let mut found = None;
        while held_count < MASK_TRIES {
            let buffers = &mut self.buffers;
            let Some((page, tag)) =
                self.space
                    .allocate_tagged(request.order, request.align_order, &mut |tag| {
                        let (parked_with, pages) = buffers.unpark(tag);
                        uncharge(parked_with, pages);
                    })
            else {
                break;
            };
            if first_frame + page + request.pages() <= limit {
                found = Some((page, tag));
                break;
            }
            if tag != NO_TAG {
                // Set aside, and released below without a tag: the record goes.
                let (parked_with, pages) = self.buffers.unpark(tag);
                uncharge(parked_with, pages);
            }
            held[held_count] = page;
            held_count += 1;
        }
        for &page in &held[..held_count] {
            self.space.release(page, request.order);
        }
        found
    }

    /// The live buffer `handle` names, if `owner` holds it.
    #[inline(always)]
    pub(crate) fn live_record(
        &self,
        handle: BufferHandle,
        owner: OwnerId,
    ) -> Result<&BufferRecord, PoolError> {
        // Every caller found this pool by `handle.pool` (or made the handle here).
        debug_assert_eq!(handle.pool, self.id);
        match self.buffers.get_live(handle.slot, handle.generation) {
            Some(record) if record.owner == owner => Ok(record),
            _ => Err(PoolError::BadHandle),
        }
    }

    /// Describes the live buffer `handle` names.
    pub(crate) fn buffer_info(
        &self,
        handle: BufferHandle,
        owner: OwnerId,
    ) -> Result<BufferInfo, PoolError> {
        let record = self.live_record(handle, owner)?;
        Ok(self.describe(handle, record))
    }

    /// The handle of `owner`'s live buffer starting at `device_address`.
    pub(crate) fn handle_at(
        &self,
        device_address: u64,
        owner: OwnerId,
    ) -> Result<BufferHandle, PoolError> {
        let offset = device_address
            .checked_sub(self.device_base)
            .ok_or(PoolError::BadHandle)?;
        if !offset.is_multiple_of(PAGE_SIZE) || offset >> PAGE_SHIFT >= self.pages() {
            return Err(PoolError::BadHandle);
        }
        let page = offset >> PAGE_SHIFT;
        let slot = self
            .buffers
            .find_start(page as u32)
            .ok_or(PoolError::BadHandle)?;
        let generation = self.buffers.generation_of(slot);
        let handle = BufferHandle {
            pool: self.id,
            slot,
            generation,
        };
        self.live_record(handle, owner)?;
        Ok(handle)
    }

    /// Releases `owner`'s buffer: frees its pages now, or marks it released when mapped.
    /// The flag is true when the freed record was parked: `owner` stays charged for it (see
    /// `buffers.rs`), so the caller must not take the charge off.
    #[inline(always)]
    pub(crate) fn release(
        &mut self,
        handle: BufferHandle,
        owner: OwnerId,
    ) -> Result<(Release, bool), PoolError> {
        // Every caller found this pool by `handle.pool`.
        debug_assert_eq!(handle.pool, self.id);
        let record = self
            .buffers
            .get_live_mut(handle.slot, handle.generation)
            .filter(|record| record.owner == owner)
            .ok_or(PoolError::BadHandle)?;
        let pages = record.pages();
        if record.mappings > 0 {
            record.state = RecordState::Released;
            let mappings = record.mappings;
            self.deferred_buffers += 1;
            self.deferred_pages += pages;
            return Ok((Release::Deferred { pages, mappings }, false));
        }
        // Freed now, through the one reference already in hand: parked (keeping its owner
        // and charge) if its pages go into the hot cache, else vacated.
        let (first_page, order) = (u64::from(record.first_page), u32::from(record.order));
        if let Some(poisoning) = &mut self.poisoning {
            poisoning.freed(first_page, order, record.owner);
        }
        record.generation = record.generation.wrapping_add(1);
        let parked = self.space.release_tagged(first_page, order, handle.slot);
        if parked {
            record.state = RecordState::Parked;
        } else {
            self.buffers.vacate(handle.slot);
        }
        Ok((Release::Freed { pages }, parked))
    }

    /// Checks that `[offset, offset + len)` is a page-aligned, non-empty part of the live
    /// buffer, without overflow, and says what to map.
    pub(crate) fn check_map(
        &self,
        handle: BufferHandle,
        owner: OwnerId,
        offset: u64,
        len: u64,
    ) -> Result<MapRange, PoolError> {
        let record = self.live_record(handle, owner)?;
        self.map_range(record, offset, len)
    }

    /// The range checks of [`check_map`](Self::check_map) on `record`.
    pub(super) fn map_range(
        &self,
        record: &BufferRecord,
        offset: u64,
        len: u64,
    ) -> Result<MapRange, PoolError> {
        if !offset.is_multiple_of(PAGE_SIZE) || !len.is_multiple_of(PAGE_SIZE) {
            return Err(PoolError::InvalidRequest("mapping not page-aligned"));
        }
        if len == 0 {
            return Err(PoolError::InvalidRequest("empty mapping"));
        }
        let size = record.pages() << PAGE_SHIFT;
        if offset.checked_add(len).is_none_or(|end| end > size) {
            return Err(PoolError::InvalidRequest(
                "mapping past the end of the buffer",
            ));
        }
        let (phys, device_address) = self.addresses(u64::from(record.first_page));
        Ok(MapRange {
            phys: phys + offset,
            device_address: device_address + offset,
            len,
            cache_type: self.cache_type,
        })
    }

    /// Counts one more mapping of `owner`'s live buffer.
    pub(crate) fn map_added(
        &mut self,
        handle: BufferHandle,
        owner: OwnerId,
    ) -> Result<(), PoolError> {
        let mappings = self.live_record(handle, owner)?.mappings;
        let mappings = mappings
            .checked_add(1)
            .ok_or(PoolError::InvalidRequest("too many mappings"))?;
        self.buffers
            .get_mut(handle.slot, handle.generation)
            .expect("checked above")
            .mappings = mappings;
        Ok(())
    }

    /// Counts one mapping fewer of the buffer in `slot` (live or released); frees a released
    /// buffer's pages with its last mapping. Returns the owner charged for the buffer too.
    pub(crate) fn map_removed(
        &mut self,
        slot: u32,
        generation: u32,
    ) -> Result<(Unmapped, OwnerId, u64), PoolError> {
        let record = *self
            .buffers
            .get(slot, generation)
            .ok_or(PoolError::BadHandle)?;
        if record.mappings == 0 {
            return Err(PoolError::BadHandle);
        }
        let mappings = record.mappings - 1;
        let pages = record.pages();
        let outcome = match (mappings, record.state) {
            (0, RecordState::Released) => {
                self.deferred_buffers -= 1;
                self.deferred_pages -= pages;
                self.free_record(slot, &record);
                return Ok((Unmapped::Freed { pages }, record.owner, pages));
            }
            (0, _) => Unmapped::Unmapped,
            (mappings, _) => Unmapped::StillMapped { mappings },
        };
        self.buffers
            .get_mut(slot, generation)
            .expect("checked above")
            .mappings = mappings;
        Ok((outcome, record.owner, pages))
    }

    /// Handles of every live buffer `owner` holds in this pool, lowest slot first, visited
    /// without allocating.
    pub(crate) fn next_live_of(&self, owner: OwnerId, from_slot: u32) -> Option<BufferHandle> {
        self.buffers
            .iter_from(from_slot)
            .find(|(_, record)| record.state == RecordState::Live && record.owner == owner)
            .map(|(slot, record)| BufferHandle {
                pool: self.id,
                slot,
                generation: record.generation,
            })
    }

    /// Describes a buffer record.
    pub(crate) fn describe(&self, handle: BufferHandle, record: &BufferRecord) -> BufferInfo {
        let (phys, device_address) = self.addresses(u64::from(record.first_page));
        BufferInfo {
            handle,
            owner: record.owner,
            phys,
            device_address,
            size_bytes: record.pages() << PAGE_SHIFT,
            mappings: record.mappings,
            released: record.state == RecordState::Released,
        }
    }

    /// Returns the pages of a released (deferred) or quarantined record to the free space
    /// and vacates it. Never parks: its owner's charge is already settled by the caller.
    pub(super) fn free_record(&mut self, slot: u32, record: &BufferRecord) {
        let first_page = u64::from(record.first_page);
        if let Some(poisoning) = &mut self.poisoning {
            poisoning.freed(first_page, u32::from(record.order), record.owner);
        }
        self.space.release(first_page, u32::from(record.order));
        self.buffers.remove(slot, false);
    }

    /// Pages and records parked with `owner` (still charged to it): `(records, pages)`.
    /// O(orders).
    pub(crate) fn parked_of(&self, owner: OwnerId) -> (u64, u64) {
        let (mut records, mut pages) = (0, 0);
        for (_, order, tag) in self.space.hot_tags() {
            if self.buffers.parked_charge(tag).0 == owner {
                records += 1;
                pages += 1u64 << order;
            }
        }
        (records, pages)
    }

    /// Vacates every parked record whose owner `pred` accepts (their hot blocks stay hot,
    /// untagged), calling `uncharge` with each one's owner and pages.
    pub(crate) fn unpark_where(
        &mut self,
        mut pred: impl FnMut(OwnerId) -> bool,
        uncharge: &mut impl FnMut(OwnerId, u64),
    ) {
        let buffers = &mut self.buffers;
        let mut untagged = [0u32; 64];
        let mut count = 0;
        self.space.untag_where(
            |tag| pred(buffers.parked_charge(tag).0),
            |tag| {
                untagged[count] = tag;
                count += 1;
            },
        );
        for &tag in &untagged[..count] {
            let (owner, pages) = buffers.unpark(tag);
            uncharge(owner, pages);
        }
    }
}
