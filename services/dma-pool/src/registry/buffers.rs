//! Buffer operations across the registry: allocate, release, map checks, mapping counts and
//! reclaiming everything an exiting owner held.
//!
//! Order of checks for an allocation: the device (`ENOENT`), the request's shape (`EINVAL`),
//! the owner's quota and the owner table (`EDQUOT`, `ENOMEM`), the device quota (`EDQUOT`),
//! the buffer table and free pages (`ENOMEM`). Only after all of them does anything change,
//! and only then is the zeroer called, once.

use super::{device_pool_mut, PoolRegistry};
use crate::owners::OwnerTable;
use crate::request::BufferRequest;
use crate::{
    AllocConstraints, Allocation, BufferHandle, BufferInfo, MapRange, MappingToken, OwnerId, Pool,
    PoolError, Release, ReleaseReport, Unmapped, Zeroer,
};

impl PoolRegistry {
    /// Allocates a zeroed buffer of `size_bytes` rounded up to a power-of-two page count from
    /// `device`'s pool (`dma_alloc_from_dev_coherent`). Its device address is aligned to its
    /// size, or to `align_bytes` when that is a larger power of two. `zeroer` is called once,
    /// for the whole buffer, only on success.
    #[inline(always)]
    pub fn alloc<Z: Zeroer + ?Sized>(
        &mut self,
        device: &str,
        size_bytes: u64,
        align_bytes: Option<u64>,
        owner: OwnerId,
        zeroer: &mut Z,
    ) -> Result<Allocation, PoolError> {
        let constraints = AllocConstraints::aligned(align_bytes);
        self.alloc_constrained(device, size_bytes, constraints, owner, zeroer)
    }

    /// [`alloc`](Self::alloc) with every constraint a request may carry (see
    /// [`AllocConstraints`]): alignment, the device's address mask and a boundary. A
    /// request no buffer of this pool could ever meet is `EINVAL`; one that cannot be met
    /// now is `ENOMEM`; a buffer returned meets all of them.
    #[inline(always)]
    pub fn alloc_constrained<Z: Zeroer + ?Sized>(
        &mut self,
        device: &str,
        size_bytes: u64,
        constraints: AllocConstraints,
        owner: OwnerId,
        zeroer: &mut Z,
    ) -> Result<Allocation, PoolError> {
        let mut pool = device_pool_mut(&mut self.pools, &mut self.device_hint, device)?;
        let request = BufferRequest::new(size_bytes, constraints, pool.max_order())?;
        // A mask the pool can never meet is refused with the other shape errors, before
        // any quota is looked at.
        let limit = pool.limit_frame(&request)?;
        // The owner's raw charge includes the records parked with it, so a refusal on it is
        // decided again without them.
        let entry = match self.owners.check_charge(owner, request.pages(), 0) {
            Ok(entry) => entry,
            Err(error) => {
                let index = self.device_hint;
                let (entry, again) = recheck_owner(
                    &mut self.owners,
                    &mut self.pools,
                    index,
                    owner,
                    request.pages(),
                    error,
                )?;
                pool = again;
                entry
            }
        };
        let owners = &mut self.owners;
        let (handle, first_page, charge) =
            pool.allocate(request, limit, owner, &mut |parked_with, pages| {
                owners.released(parked_with, pages, false);
            })?;
        if charge {
            self.owners.charge(entry, request.pages());
        }
        let (phys, device_address) = pool.addresses(first_page);
        let size_bytes = request.pages() << crate::PAGE_SHIFT;
        pool.zero_new(first_page, request.pages(), zeroer);
        Ok(Allocation {
            handle,
            phys,
            device_address,
            size_bytes,
            cache_type: pool.cache_type(),
        })
    }

    /// Releases `owner`'s buffer (`dma_release_from_dev_coherent`). Its pages return at once,
    /// or with its last unmap if it is mapped; either way the handle is dead from now on.
    /// A stale handle (double release, retired pool) or another owner's handle is refused
    /// with [`PoolError::BadHandle`] and changes nothing.
    #[inline(always)]
    pub fn release(&mut self, handle: BufferHandle, owner: OwnerId) -> Result<Release, PoolError> {
        let (released, parked) = self.pool_mut(handle.pool)?.release(handle, owner)?;
        match released {
            // A parked record keeps its owner's charge (see `buffers.rs`).
            Release::Freed { .. } if parked => {}
            Release::Freed { pages } => self.owners.released(owner, pages, false),
            Release::Deferred { pages, .. } => self.owners.released(owner, pages, true),
        }
        Ok(released)
    }

    /// Releases `owner`'s live buffer that starts at `device_address` in `device`'s pool, the
    /// way Linux releases by address. An address that is not the first byte of one of the
    /// owner's live buffers is refused with [`PoolError::BadHandle`]. O(1): at most 64
    /// buffers start in one 64-page chunk.
    pub fn release_address(
        &mut self,
        device: &str,
        device_address: u64,
        owner: OwnerId,
    ) -> Result<Release, PoolError> {
        let index = self.device_index(device)?;
        let handle = self.slot_mut(index).handle_at(device_address, owner)?;
        self.release(handle, owner)
    }

    /// The handle of `owner`'s live buffer starting at `device_address` in `device`'s pool.
    pub fn handle_at(
        &self,
        device: &str,
        device_address: u64,
        owner: OwnerId,
    ) -> Result<BufferHandle, PoolError> {
        self.pool_for_device(device)?
            .handle_at(device_address, owner)
    }

    /// Describes `owner`'s live buffer (what a read of its descriptor returns).
    pub fn buffer(&self, handle: BufferHandle, owner: OwnerId) -> Result<BufferInfo, PoolError> {
        self.pool(handle.pool)
            .ok_or(PoolError::BadHandle)?
            .buffer_info(handle, owner)
    }

    /// Checks a request to map `[offset, offset + len)` of `owner`'s live buffer
    /// (`dma_mmap_from_dev_coherent`'s check, without its overflow): both page-aligned,
    /// `len` non-zero, and `offset + len` within the buffer without wrapping. Returns the
    /// physical range and memory type to map. Changes nothing; call
    /// [`map_added`](Self::map_added) once the mapping exists.
    pub fn check_map(
        &self,
        handle: BufferHandle,
        owner: OwnerId,
        offset: u64,
        len: u64,
    ) -> Result<MapRange, PoolError> {
        self.pool(handle.pool)
            .ok_or(PoolError::BadHandle)?
            .check_map(handle, owner, offset, len)
    }

    /// Counts a new mapping of `owner`'s live buffer. The returned token names the buffer
    /// for [`map_removed`](Self::map_removed) even after the owner releases it.
    pub fn map_added(
        &mut self,
        handle: BufferHandle,
        owner: OwnerId,
    ) -> Result<MappingToken, PoolError> {
        self.pool_mut(handle.pool)?.map_added(handle, owner)?;
        Ok(MappingToken {
            pool: handle.pool,
            slot: handle.slot,
            generation: handle.generation,
        })
    }

    /// Counts one mapping fewer. When that was the last mapping of a released buffer its
    /// pages return to the pool. A token with no mapping left to remove, or of a buffer
    /// already freed, is refused with [`PoolError::BadHandle`].
    pub fn map_removed(&mut self, token: MappingToken) -> Result<Unmapped, PoolError> {
        let (outcome, owner, pages) = self
            .pool_mut(token.pool)?
            .map_removed(token.slot, token.generation)?;
        if let Unmapped::Freed { .. } = outcome {
            self.owners.deferred_freed(owner, pages);
        }
        Ok(outcome)
    }

    /// Releases every live buffer `owner` holds in every pool (process exit) and reports what
    /// that did. Mapped buffers are deferred as with [`release`](Self::release); records
    /// parked with the owner are vacated, so it keeps no charge at all.
    /// O(buffer capacity) per pool; allocates nothing.
    pub fn release_all(&mut self, owner: OwnerId) -> ReleaseReport {
        let mut report = ReleaseReport::default();
        for index in 0..self.pools.len() {
            let mut from_slot = 0;
            while let Some(handle) = self.pools[index]
                .as_ref()
                .and_then(|pool| pool.next_live_of(owner, from_slot))
            {
                from_slot = handle.slot + 1;
                match self
                    .release(handle, owner)
                    .expect("live buffer of this owner")
                {
                    Release::Freed { pages } => {
                        report.freed_buffers += 1;
                        report.freed_pages += pages;
                    }
                    Release::Deferred { pages, .. } => {
                        report.deferred_buffers += 1;
                        report.deferred_pages += pages;
                    }
                }
            }
        }
        self.unpark_where(|parked_with| parked_with == owner);
        report
    }

    /// Vacates every parked record whose owner `pred` accepts, in every pool, taking its
    /// charge off its owner.
    pub(super) fn unpark_where(&mut self, pred: impl Fn(OwnerId) -> bool) {
        let owners = &mut self.owners;
        for pool in self.pools.iter_mut().flatten() {
            pool.unpark_where(&pred, &mut |parked_with, pages| {
                owners.released(parked_with, pages, false);
            });
        }
    }

    /// `(records, pages)` parked with `owner` across the pools: charged to it, but not its
    /// buffers. O(pools × orders).
    pub(super) fn parked_of(&self, owner: OwnerId) -> (u64, u64) {
        parked_of(&self.pools, owner)
    }
}

/// [`PoolRegistry::parked_of`] on the pool slots.
fn parked_of(pools: &[Option<Pool>], owner: OwnerId) -> (u64, u64) {
    pools
        .iter()
        .flatten()
        .map(|pool| pool.parked_of(owner))
        .fold((0, 0), |(records, pages), (more_records, more_pages)| {
            (records + more_records, pages + more_pages)
        })
}

/// The owner check refused an allocation from the pool in slot `index` on the raw charges
/// (`error`): decides again without parked records. A full owner table first loses every
/// parked record (owners charged only for those become idle and make room); an owner over
/// its quota is credited what its own parked records hold. The answer is then exact.
/// Returns the owner's entry and the pool again, or the error (counted as the pool's
/// failed allocation).
#[cold]
#[inline(never)]
fn recheck_owner<'a>(
    owners: &mut OwnerTable,
    pools: &'a mut [Option<Pool>],
    index: usize,
    owner: OwnerId,
    pages: u64,
    error: PoolError,
) -> Result<(usize, &'a mut Pool), PoolError> {
    if error == PoolError::OutOfMemory {
        for pool in pools.iter_mut().flatten() {
            pool.unpark_where(|_| true, &mut |parked_with, pages| {
                owners.released(parked_with, pages, false);
            });
        }
    }
    let (_, credit) = parked_of(pools, owner);
    let checked = owners.check_charge(owner, pages, credit);
    let pool = pools[index].as_mut().expect("the pool just found");
    match checked {
        Ok(entry) => Ok((entry, pool)),
        Err(error) => {
            pool.note_failed_allocation();
            Err(error)
        }
    }
}
