//! What successful operations return: allocations, buffer descriptions, map ranges, releases.

use crate::{BufferHandle, CacheType, OwnerId};

/// A freshly allocated, zeroed buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allocation {
    /// How the owner names the buffer from now on.
    pub handle: BufferHandle,
    /// Physical address of the first byte.
    pub phys: u64,
    /// The address the device uses for the first byte.
    pub device_address: u64,
    /// Length in bytes: the request rounded up to a power-of-two number of pages.
    pub size_bytes: u64,
    /// How the buffer must be mapped.
    pub cache_type: CacheType,
}

/// One buffer of a pool, live or released-but-mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferInfo {
    /// The handle it was allocated under.
    pub handle: BufferHandle,
    /// Its owner.
    pub owner: OwnerId,
    /// Physical address of the first byte.
    pub phys: u64,
    /// The address the device uses for the first byte.
    pub device_address: u64,
    /// Length in bytes.
    pub size_bytes: u64,
    /// How many mappings are live.
    pub mappings: u32,
    /// Whether the owner has released it (its pages return with the last unmap).
    pub released: bool,
}

/// A checked part of a buffer, ready to map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapRange {
    /// Physical address of the first byte to map.
    pub phys: u64,
    /// The device address of the same byte.
    pub device_address: u64,
    /// Bytes to map; a non-zero multiple of the page size.
    pub len: u64,
    /// The memory type to map with.
    pub cache_type: CacheType,
}

/// What releasing a buffer did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// The pages are free again.
    Freed {
        /// Pages returned to the pool.
        pages: u64,
    },
    /// The buffer is still mapped; its pages return with the last unmap.
    Deferred {
        /// Pages held until then.
        pages: u64,
        /// Mappings still live.
        mappings: u32,
    },
}

/// What removing a mapping did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unmapped {
    /// Other mappings remain.
    StillMapped {
        /// Mappings still live.
        mappings: u32,
    },
    /// That was the last mapping of a buffer its owner still holds.
    Unmapped,
    /// That was the last mapping of a released buffer: its pages are free again.
    Freed {
        /// Pages returned to the pool.
        pages: u64,
    },
}

/// What [`release_all`](crate::PoolRegistry::release_all) did for one owner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReleaseReport {
    /// Buffers whose pages returned at once.
    pub freed_buffers: u64,
    /// Pages those buffers held.
    pub freed_pages: u64,
    /// Buffers still mapped, whose pages return with their last unmap.
    pub deferred_buffers: u64,
    /// Pages those buffers hold.
    pub deferred_pages: u64,
}
