//! One device's pool: its declaration, free space, buffer table and counters.
//!
//! A [`Pool`] is read through the registry (`pool_for_device`, `pool_by_index`, `pools`);
//! every change goes through [`PoolRegistry`](crate::PoolRegistry), which also keeps the
//! per-owner quotas that span pools.

mod buffers;
mod map;
mod poison;
mod quarantine;
mod shares;
mod stats;

use alloc::boxed::Box;
use alloc::string::String;

use crate::buffers::BufferTable;
use crate::poison::Poisoning;
use crate::space::FreeSpace;
use crate::{CacheType, PoolDeclaration, PoolId, PAGE_SHIFT};

/// A declared pool of device memory serving one device.
#[derive(Clone, Debug)]
pub struct Pool {
    id: PoolId,
    name: String,
    device: String,
    phys_base: u64,
    device_base: u64,
    cache_type: CacheType,
    space: FreeSpace,
    buffers: BufferTable,
    device_quota: Option<u64>,
    /// log2 of the page count, rounded down: the largest order a buffer can have.
    max_order: u32,
    deferred_buffers: u64,
    deferred_pages: u64,
    /// The fewest free pages after any allocation: the high-water mark of used pages,
    /// counted from the other end (one comparison on the allocation path).
    low_water_free_pages: u64,
    failed_allocations: u64,
    quarantined_buffers: u64,
    quarantined_pages: u64,
    /// Debug mode's state (`poison.rs`), when poisoning is on.
    poisoning: Option<Box<Poisoning>>,
}

impl Pool {
    /// Builds a pool from a validated declaration; everything it will ever need is
    /// allocated here.
    pub(crate) fn new(id: PoolId, declaration: &PoolDeclaration<'_>, buffer_capacity: u32) -> Self {
        let pages = declaration.size_bytes >> PAGE_SHIFT;
        let space = FreeSpace::new(declaration.device_base >> PAGE_SHIFT, pages);
        let chunk_offset = (declaration.device_base >> PAGE_SHIFT) % 64;
        let buffers = BufferTable::new(buffer_capacity, space.chunk_slots(), chunk_offset);
        Pool {
            id,
            name: String::from(declaration.name),
            device: String::from(declaration.device),
            phys_base: declaration.phys_base,
            device_base: declaration.device_base,
            cache_type: declaration.cache_type,
            space,
            buffers,
            device_quota: None,
            max_order: pages.ilog2(),
            deferred_buffers: 0,
            deferred_pages: 0,
            low_water_free_pages: pages,
            failed_allocations: 0,
            quarantined_buffers: 0,
            quarantined_pages: 0,
            poisoning: None,
        }
    }

    /// This declaration's id.
    #[inline]
    pub fn id(&self) -> PoolId {
        self.id
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The device it serves.
    #[inline]
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Physical address of the first byte.
    pub fn phys_base(&self) -> u64 {
        self.phys_base
    }

    /// Device address of the first byte.
    pub fn device_base(&self) -> u64 {
        self.device_base
    }

    /// Length in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.space.pages() << PAGE_SHIFT
    }

    /// Pages in the pool.
    #[inline]
    pub fn pages(&self) -> u64 {
        self.space.pages()
    }

    /// The largest order a buffer can have: log2 of the page count, rounded down.
    #[inline(always)]
    pub(crate) fn max_order(&self) -> u32 {
        self.max_order
    }

    /// How the pool's pages are mapped.
    #[inline]
    pub fn cache_type(&self) -> CacheType {
        self.cache_type
    }

    /// The device's page quota, if set.
    pub fn device_quota(&self) -> Option<u64> {
        self.device_quota
    }

    /// Pages not free: in live buffers or in released buffers still mapped.
    #[inline]
    pub fn used_pages(&self) -> u64 {
        self.space.pages() - self.space.free_pages()
    }

    /// Whether any buffer, live, released-but-mapped or quarantined, remains. Counts live
    /// buffers in the buffer table: O(buffer capacity).
    pub fn is_busy(&self) -> bool {
        self.deferred_buffers + self.quarantined_buffers > 0 || self.live_buffers() > 0
    }

    /// Live buffers, counted in the buffer table (no counter is kept on the allocation
    /// path): O(buffer capacity).
    pub(crate) fn live_buffers(&self) -> u64 {
        self.buffers
            .iter()
            .filter(|(_, record)| record.state == crate::buffers::RecordState::Live)
            .count() as u64
    }

    pub(crate) fn set_device_quota(&mut self, pages: Option<u64>) {
        self.device_quota = pages;
    }

    pub(crate) fn note_failed_allocation(&mut self) {
        self.failed_allocations += 1;
    }

    /// The physical and device addresses of pool page `page`.
    #[inline]
    pub(crate) fn addresses(&self, page: u64) -> (u64, u64) {
        let offset = page << PAGE_SHIFT;
        (self.phys_base + offset, self.device_base + offset)
    }
}
