//! A pool's statistics, listings and self-check: read-only and off the allocation path.

use alloc::vec::Vec;

use super::Pool;
use crate::buffers::RecordState;
use crate::{BufferHandle, BufferInfo, FreeExtent, MetadataUsage, OwnerId, PoolStats};

impl Pool {
    /// The pool's figures now. Walks the free space for the largest free run (O(chunks)) and
    /// the buffer table for the live buffers (O(buffer capacity)).
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            total_pages: self.space.pages(),
            free_pages: self.space.free_pages(),
            largest_free_run_pages: self.space.largest_free_run(),
            largest_free_block_pages: self
                .space
                .largest_free_order()
                .map_or(0, |order| 1 << order),
            live_buffers: self.live_buffers(),
            deferred_buffers: self.deferred_buffers,
            deferred_pages: self.deferred_pages,
            high_water_pages: self.space.pages() - self.low_water_free_pages,
            failed_allocations: self.failed_allocations,
            quarantined_buffers: self.quarantined_buffers,
            quarantined_pages: self.quarantined_pages,
        }
    }

    /// Pages `owner` holds in this pool, live or released-but-mapped. Scans the buffer
    /// table: O(buffer capacity).
    pub fn owner_pages(&self, owner: OwnerId) -> u64 {
        self.buffers
            .iter()
            .filter(|(_, record)| record.owner == owner && record.state != RecordState::Quarantined)
            .map(|(_, record)| record.pages())
            .sum()
    }

    /// Every owner with pages in this pool and how many, by owner id (for text tables).
    pub fn owners(&self) -> impl Iterator<Item = (OwnerId, u64)> {
        let mut owners: Vec<(OwnerId, u64)> = Vec::new();
        for (_, record) in self.buffers.iter() {
            if record.state == RecordState::Quarantined {
                continue;
            }
            match owners.binary_search_by_key(&record.owner, |&(owner, _)| owner) {
                Ok(index) => owners[index].1 += record.pages(),
                Err(index) => owners.insert(index, (record.owner, record.pages())),
            }
        }
        owners.into_iter()
    }

    /// Every buffer, live or released-but-mapped, in buffer-table order (quarantined ones
    /// are nobody's and only counted in [`Pool::stats`]).
    pub fn buffers(&self) -> impl Iterator<Item = BufferInfo> + '_ {
        self.buffers
            .iter()
            .filter(|(_, record)| record.state != RecordState::Quarantined)
            .map(|(slot, record)| {
                let handle = BufferHandle {
                    pool: self.id,
                    slot,
                    generation: record.generation,
                };
                self.describe(handle, record)
            })
    }

    /// The maximal runs of free pages, lowest first.
    pub fn free_extents(&self) -> Vec<FreeExtent> {
        let mut extents = Vec::new();
        self.space.for_each_free_extent(|first_page, pages| {
            extents.push(FreeExtent { first_page, pages })
        });
        extents
    }

    /// How much memory the pool's bookkeeping takes.
    pub fn metadata(&self) -> MetadataUsage {
        MetadataUsage {
            pages: self.space.pages(),
            free_space_bytes: self.space.metadata_bytes() as u64,
            chunk_index_bytes: self.buffers.chunk_index_bytes() as u64,
            buffer_table_bytes: self.buffers.record_bytes() as u64,
        }
    }

    /// Checks every internal invariant: free-space structure, buffer lists, counters, and
    /// that live pages plus free pages make the whole pool. For tests; O(pages).
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        self.space.check()?;
        self.buffers.check(|page| self.space.chunk_slot(page))?;
        // Parked records and tagged hot blocks match one to one.
        let mut tagged = 0;
        for (page, order, tag) in self.space.hot_tags() {
            match self
                .buffers
                .parked_records()
                .find(|&(slot, _, _)| slot == tag)
            {
                Some((_, first_page, record_order))
                    if u64::from(first_page) == page && u32::from(record_order) == order => {}
                _ => return Err("a tagged hot block's record is not parked at its pages"),
            }
            tagged += 1;
        }
        if tagged != self.buffers.parked_records().count() {
            return Err("a parked record's pages are not a tagged hot block");
        }
        let mut quarantined = 0;
        let mut deferred = 0;
        let mut deferred_pages = 0;
        let mut used = 0;
        for (_, record) in self.buffers.iter() {
            used += record.pages();
            match record.state {
                RecordState::Live => {}
                RecordState::Released => {
                    deferred += 1;
                    deferred_pages += record.pages();
                    if record.mappings == 0 {
                        return Err("a released buffer without mappings kept its pages");
                    }
                }
                RecordState::Quarantined => quarantined += 1,
                RecordState::Vacant | RecordState::Parked => {
                    unreachable!("iter skips vacant and parked records")
                }
            }
        }
        if quarantined != self.quarantined_buffers
            || deferred != self.deferred_buffers
            || deferred_pages != self.deferred_pages
        {
            return Err("buffer counters disagree with the buffer table");
        }
        if used + self.space.free_pages() != self.space.pages() {
            return Err("used plus free pages is not the pool size");
        }
        Ok(())
    }
}
