//! A DMA pool declaration, the one shape both the manifest and the device tree produce.
//!
//! The kernel merges declarations from both sources at boot, places the dynamic ones in RAM,
//! and keeps the pool's pages out of the general frame allocator.

/// Size of a page, the unit of pool sizes and the smallest pool alignment.
pub const PAGE_SIZE: u64 = 4096;
/// How many devices one pool can serve.
pub const MAX_POOL_DEVICES: usize = 4;
/// How many `alloc-ranges` a dynamic pool can restrict its placement to.
pub const MAX_ALLOC_RANGES: usize = 4;

/// One declared pool of DMA memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolDeclaration<'a> {
    /// The pool's name: the manifest section's last segment or the device-tree node name.
    pub name: &'a str,
    /// The devices the pool serves, filled from the front; see [`PoolDeclaration::devices`].
    pub device_names: [Option<&'a str>; MAX_POOL_DEVICES],
    /// Where the pool lies, or the constraints for placing it.
    pub placement: Placement,
    /// Keep the pool out of the kernel's linear map.
    pub no_map: bool,
    /// The device tree marked the pool `reusable` (the OS may lend its pages out while no
    /// device uses them). coherent notes it but never lends pool pages; always false for
    /// manifest pools.
    pub reusable: bool,
    /// Device (DMA) address = physical address + this offset (manifest pools; device-tree
    /// pools get their device address from bus `dma-ranges` once placed).
    pub device_offset: u64,
    /// The global coherent pool (Linux `CONFIG_DMA_GLOBAL_POOL`): devices granted to a
    /// process but without a pool of their own allocate from it. Device tree
    /// `linux,dma-default`, manifest `default = true`.
    pub default: bool,
    /// How the CPU maps the pool's buffers (see [`PoolCache`]): manifest `cache`, or for a
    /// device-tree pool write-back when every device it serves is `dma-coherent`.
    pub cache: PoolCache,
}

/// The memory type a pool's buffers are mapped with, as declared.
///
/// Write-combining unless the declaration says otherwise, as Linux maps declared coherent
/// memory (`dma_init_coherent_memory`). A write-back pool is cached by the CPU: on a device
/// that does not snoop the CPU's caches the driver syncs (`SYS_DMA_SYNC`) around each
/// transfer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PoolCache {
    /// Normal cacheable memory (manifest `cache = "wb"`).
    WriteBack,
    /// Normal non-cacheable memory, writes may be combined (`"wc"`, the default).
    #[default]
    WriteCombining,
    /// Uncached, strongly ordered (`"uc"`).
    Uncached,
}

impl PoolCache {
    /// Every type, in the order of their manifest names.
    pub const ALL: [PoolCache; 3] = [Self::WriteBack, Self::WriteCombining, Self::Uncached];

    /// The manifest's name for it: `wb`, `wc` or `uc` (also `memory:pools`' `cache=` word).
    pub const fn token(self) -> &'static str {
        match self {
            Self::WriteBack => "wb",
            Self::WriteCombining => "wc",
            Self::Uncached => "uc",
        }
    }

    /// The type a manifest name stands for; `None` for anything but `wb`, `wc`, `uc`.
    pub fn from_token(token: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|cache| cache.token() == token)
    }
}

/// Where a pool lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// A fixed physical range.
    Static {
        /// Physical base address.
        base: u64,
        /// Size in bytes.
        size: u64,
    },
    /// The kernel chooses the base at boot.
    Dynamic {
        /// Size in bytes.
        size: u64,
        /// Alignment of the base, a power of two.
        align: u64,
        /// The pool must end at or below this physical address.
        limit: Option<u64>,
        /// If any is given, the pool must lie inside one of these `(base, size)` ranges.
        alloc_ranges: [Option<(u64, u64)>; MAX_ALLOC_RANGES],
    },
}

impl Placement {
    /// The pool's size in bytes.
    pub fn size(&self) -> u64 {
        match *self {
            Self::Static { size, .. } | Self::Dynamic { size, .. } => size,
        }
    }
}

/// The device list was full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyDevices;

impl<'a> PoolDeclaration<'a> {
    /// A pool with the given name and placement, no devices, mapped, and no device offset.
    pub fn new(name: &'a str, placement: Placement) -> Self {
        Self {
            name,
            device_names: [None; MAX_POOL_DEVICES],
            placement,
            no_map: false,
            reusable: false,
            device_offset: 0,
            default: false,
            cache: PoolCache::WriteCombining,
        }
    }

    /// The devices the pool serves, in declaration order.
    pub fn devices(&self) -> impl Iterator<Item = &'a str> + Clone {
        self.device_names.into_iter().flatten()
    }

    /// Whether the pool serves `device`.
    pub fn serves(&self, device: &str) -> bool {
        self.devices().any(|name| name == device)
    }

    /// Adds a device to the first free slot; a device already present is not added twice.
    ///
    /// # Errors
    ///
    /// [`TooManyDevices`] if all [`MAX_POOL_DEVICES`] slots are taken.
    pub fn add_device(&mut self, device: &'a str) -> Result<(), TooManyDevices> {
        if self.serves(device) {
            return Ok(());
        }
        let slot = self
            .device_names
            .iter_mut()
            .find(|slot| slot.is_none())
            .ok_or(TooManyDevices)?;
        *slot = Some(device);
        Ok(())
    }

    /// The pool's size in bytes.
    pub fn size(&self) -> u64 {
        self.placement.size()
    }

    /// The highest end address (exclusive) the pool may have: its `limit`, lowered so that no
    /// device address wraps past 2^64 once `device_offset` is added. `None` means no bound
    /// below the top of the 64-bit space. Static pools report `None`.
    pub fn address_limit(&self) -> Option<u64> {
        let limit = match self.placement {
            Placement::Dynamic { limit, .. } => limit,
            Placement::Static { .. } => return None,
        };
        // Physical addresses up to 2^64 - offset map to device addresses below 2^64.
        let wrap_limit = 0u64.wrapping_sub(self.device_offset);
        match (limit, self.device_offset) {
            (limit, 0) => limit,
            (None, _) => Some(wrap_limit),
            (Some(limit), _) => Some(limit.min(wrap_limit)),
        }
    }

    /// The device address of `physical`, or `None` if adding the offset would wrap.
    pub fn device_address(&self, physical: u64) -> Option<u64> {
        physical.checked_add(self.device_offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_fill_in_order_without_repeats_up_to_the_limit() {
        let mut pool = PoolDeclaration::new(
            "p",
            Placement::Static {
                base: 0,
                size: 4096,
            },
        );
        for device in ["a", "b", "a", "c", "d"] {
            pool.add_device(device).unwrap();
        }
        assert_eq!(pool.devices().collect::<Vec<_>>(), ["a", "b", "c", "d"]);
        assert_eq!(pool.add_device("e"), Err(TooManyDevices));
        assert!(pool.serves("c") && !pool.serves("e"));
        assert_eq!(pool.size(), 4096);
        assert_eq!(pool.address_limit(), None);
    }

    #[test]
    fn address_limit_keeps_device_addresses_from_wrapping() {
        let dynamic = |limit| Placement::Dynamic {
            size: 4096,
            align: 4096,
            limit,
            alloc_ranges: [None; MAX_ALLOC_RANGES],
        };
        let mut pool = PoolDeclaration::new("p", dynamic(None));
        assert_eq!(pool.address_limit(), None);
        pool.device_offset = 0x1000;
        assert_eq!(pool.address_limit(), Some(0xffff_ffff_ffff_f000));
        assert_eq!(pool.device_address(u64::MAX), None);
        pool.placement = dynamic(Some(0x1_0000_0000));
        assert_eq!(pool.address_limit(), Some(0x1_0000_0000));
    }

    #[test]
    fn cache_tokens_round_trip_and_nothing_else_is_a_type() {
        for cache in PoolCache::ALL {
            assert_eq!(PoolCache::from_token(cache.token()), Some(cache));
        }
        for bad in ["", "WB", "wt", "write-back", "wb ", "uncached"] {
            assert_eq!(PoolCache::from_token(bad), None, "{bad:?}");
        }
        assert_eq!(PoolCache::default(), PoolCache::WriteCombining);
    }
}
