//! Counters and usage figures for dmad's text tables and for tests.

/// A pool's figures at one moment. Two equal snapshots mean an unchanged pool as far as an
/// observer can tell (tests compare them around refused requests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Pages in the pool.
    pub total_pages: u64,
    /// Pages not in any buffer (deferred buffers' pages are not free).
    pub free_pages: u64,
    /// The longest run of contiguous free pages.
    pub largest_free_run_pages: u64,
    /// The largest size-aligned buffer an allocation could get now, in pages.
    pub largest_free_block_pages: u64,
    /// Buffers their owners still hold.
    pub live_buffers: u64,
    /// Released buffers waiting for their last unmap.
    pub deferred_buffers: u64,
    /// Pages those deferred buffers hold.
    pub deferred_pages: u64,
    /// The most pages ever in use at once.
    pub high_water_pages: u64,
    /// Allocations refused for lack of memory or quota (malformed requests are not counted).
    pub failed_allocations: u64,
    /// Released buffers held back because their device may still reach them.
    pub quarantined_buffers: u64,
    /// Pages those quarantined buffers hold (not free, not charged to anyone).
    pub quarantined_pages: u64,
}

/// One owner's use of the registry's pools.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OwnerUsage {
    /// Buffers the owner holds.
    pub live_buffers: u64,
    /// Pages in those buffers.
    pub live_pages: u64,
    /// Pages of buffers it released that are still mapped (still charged to its quota).
    pub deferred_pages: u64,
    /// Its page quota, if one is set.
    pub quota_pages: Option<u64>,
}

impl OwnerUsage {
    /// Pages charged against the quota: live plus deferred.
    pub const fn charged_pages(&self) -> u64 {
        self.live_pages + self.deferred_pages
    }
}

/// A run of contiguous free pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreeExtent {
    /// Index of the first free page in the pool.
    pub first_page: u64,
    /// Number of pages.
    pub pages: u64,
}

/// How much memory a pool's bookkeeping takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetadataUsage {
    /// Pages in the pool.
    pub pages: u64,
    /// Free-space metadata: chunk page words, run bitmaps, buddy levels and their summaries.
    pub free_space_bytes: u64,
    /// Per-chunk buffer-list heads (for address lookups), also sized by the page count.
    pub chunk_index_bytes: u64,
    /// The buffer table, sized by the declared buffer capacity, not by pages.
    pub buffer_table_bytes: u64,
}

impl MetadataUsage {
    /// Bits per page of everything sized by the page count (free space and chunk index).
    pub fn bits_per_page(&self) -> f64 {
        (self.free_space_bytes + self.chunk_index_bytes) as f64 * 8.0 / self.pages as f64
    }
}
