//! What a pool is declared from, and the reserved regions pools are carved from.

use crate::CacheType;

/// A request to create a device pool (`dma_declare_coherent_memory`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolDeclaration<'a> {
    /// The pool's name, for tables and logs (e.g. the reserved-memory node name).
    pub name: &'a str,
    /// The one device the pool serves, e.g. `"virtio-blk0"`.
    pub device: &'a str,
    /// Physical address of the first byte; page-aligned.
    pub phys_base: u64,
    /// The address the device uses for the first byte; page-aligned, may differ from
    /// `phys_base` (Linux's `use_dev_dma_pfn_offset` case).
    pub device_base: u64,
    /// Length in bytes; non-zero and a multiple of the page size.
    pub size_bytes: u64,
    /// How the pool's pages are mapped.
    pub cache_type: CacheType,
    /// How many buffers may be live (or released but still mapped) at once; `None` means
    /// [`DEFAULT_BUFFER_CAPACITY`] or the page count, whichever is smaller. The table is
    /// allocated at declaration, 32 bytes per entry.
    pub buffer_capacity: Option<u32>,
}

/// Buffer table entries a pool gets when its declaration does not say.
pub const DEFAULT_BUFFER_CAPACITY: u32 = 4096;

impl<'a> PoolDeclaration<'a> {
    /// A declaration with the default buffer capacity.
    pub const fn new(
        name: &'a str,
        device: &'a str,
        phys_base: u64,
        device_base: u64,
        size_bytes: u64,
        cache_type: CacheType,
    ) -> Self {
        PoolDeclaration {
            name,
            device,
            phys_base,
            device_base,
            size_bytes,
            cache_type,
            buffer_capacity: None,
        }
    }

    /// The same declaration with room for `capacity` simultaneous buffers.
    pub const fn with_buffer_capacity(mut self, capacity: u32) -> Self {
        self.buffer_capacity = Some(capacity);
        self
    }
}

/// A physical range the kernel declared as DMA memory; only ranges inside one may become pools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReservedRegion {
    /// Physical address of the first byte.
    pub phys_base: u64,
    /// Length in bytes.
    pub size_bytes: u64,
}

impl ReservedRegion {
    /// One past the last byte (validated not to overflow when the region was added).
    pub const fn end(&self) -> u64 {
        self.phys_base + self.size_bytes
    }

    /// Whether `[phys_base, phys_base + size_bytes)` lies entirely inside this region.
    pub const fn contains(&self, phys_base: u64, size_bytes: u64) -> bool {
        match phys_base.checked_add(size_bytes) {
            Some(end) => phys_base >= self.phys_base && end <= self.end(),
            None => false,
        }
    }
}
