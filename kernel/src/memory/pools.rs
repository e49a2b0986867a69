//! Declared DMA pools: read from the device tree and the manifest, placed, checked, kept.
//!
//! Pools come from two sources, merged before the frame allocator hands out one page
//! (ARCHITECTURE.md, "Declared DMA memory"): `/reserved-memory` children with `compatible =
//! "shared-dma-pool"` (static `reg` or dynamic `size` / `alignment` / `alloc-ranges`, with the
//! devices that name them through `memory-region`), and the manifest's `[pool.NAME]` sections
//! (x86_64 has no device tree; manifest pools are always dynamic). Dynamic pools are placed at
//! the highest fitting RAM address, as Linux does. A malformed node, an overlap, a pool outside
//! RAM or a pool that does not fit is logged as an error and skipped; boot goes on.
//!
//! The device tree is read first; a manifest pool for a device the device tree already
//! serves is skipped (the platform description wins).
//!
//! A pool's device base is what its devices see at its first byte: for a device-tree pool,
//! the physical base translated by the `dma-ranges` of each device's buses
//! ([`image::platform::DeviceTree::pool_device_base`], Linux's `phys_to_dma`); for a manifest
//! pool, the physical base plus its `device-offset`. A pool some device cannot address, whole,
//! through its buses is refused with an error naming pool and device.
//!
//! The global coherent pool (Linux `CONFIG_DMA_GLOBAL_POOL`) is the one pool marked default
//! (`linux,dma-default`, manifest `default = true`); it may serve no device of its own, since
//! dmad lends it to granted devices without a pool. A second default pool is refused with
//! an error, except a manifest one after the device tree's, which is skipped quietly (the
//! platform description wins, as for device pools: the default manifest declares a small
//! global pool for machines whose tree has none).
//!
//! Decision: no pool page is ever in the kernel's linear map, `no-map` or not. Pool memory is
//! mapped only through `memory:pool/NAME`, always with the pool's declared cache type
//! ([`DeclaredPool::cache`]: write-combining unless the manifest says `cache = "wb"` or
//! `"uc"`, or every device of a device-tree pool is `dma-coherent`), and clients get dmad's
//! type; so a pool frame never has two different types at once. The type is the CPU's side
//! only: an SMMU still gives a device's accesses Normal non-cacheable attributes whatever
//! the pool's type (`iommu::smmu`), so a driver of a write-back pool syncs
//! (`SYS_DMA_SYNC`) around transfers even behind an IOMMU; it costs only a barrier where the
//! device snoops.

use image::platform::DeviceTree;
use image::pool::{Placement, PoolCache, PoolDeclaration, MAX_POOL_DEVICES};
use kernel_core::ranges::RangeSet;
use kernel_core::CacheType;
use log::{error, warn};

/// The most pools the kernel keeps.
pub const MAX_POOLS: usize = 16;

/// Where a pool was declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolSource {
    /// A `/reserved-memory` node of the device tree.
    DeviceTree,
    /// A `[pool.NAME]` section of the image manifest.
    Manifest,
}

/// A placed, validated DMA pool: physical pages reserved for devices.
#[derive(Clone, Copy, Debug)]
pub struct DeclaredPool {
    /// The node or section name.
    pub name: &'static str,
    /// The devices the pool serves.
    pub devices: [Option<&'static str>; MAX_POOL_DEVICES],
    /// First physical byte.
    pub physical_base: u64,
    /// The device (DMA) address of the first byte.
    pub device_base: u64,
    /// Length in bytes (a multiple of the page size).
    pub size: u64,
    /// Declared `no-map` (it is kept out of the linear map either way).
    pub no_map: bool,
    /// Where it was declared.
    pub source: PoolSource,
    /// The global coherent pool, for granted devices without a pool of their own.
    pub default: bool,
    /// The memory type every mapping of the pool has, as declared ([`cache_type`]).
    pub cache: PoolCache,
}

/// The kernel's memory type for a declared pool cache type.
pub const fn cache_type(cache: PoolCache) -> CacheType {
    match cache {
        PoolCache::WriteBack => CacheType::WriteBack,
        PoolCache::WriteCombining => CacheType::WriteCombining,
        PoolCache::Uncached => CacheType::Uncached,
    }
}

impl DeclaredPool {
    /// One past the last physical byte.
    pub fn end(&self) -> u64 {
        self.physical_base + self.size
    }

    /// The devices, in declaration order.
    pub fn devices(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.devices.iter().flatten().copied()
    }
}

/// The pools as declared at boot, for the `memory:` facility.
static PUBLISHED: spin::Mutex<PoolTable> = spin::Mutex::new(PoolTable::new());

/// Makes `table` the pool table `memory:` serves.
pub fn publish(table: &PoolTable) {
    *PUBLISHED.lock() = *table;
}

/// The pool table `memory:` serves.
pub fn published() -> PoolTable {
    *PUBLISHED.lock()
}

/// The pool table the kernel keeps for dmad.
#[derive(Clone, Copy, Debug)]
pub struct PoolTable {
    pools: [Option<DeclaredPool>; MAX_POOLS],
}

impl PoolTable {
    /// An empty table.
    pub const fn new() -> Self {
        PoolTable {
            pools: [None; MAX_POOLS],
        }
    }

    /// The pools in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = &DeclaredPool> {
        self.pools.iter().flatten()
    }

    /// Whether `[base, base + size)` overlaps any pool.
    pub fn overlaps(&self, base: u64, size: u64) -> bool {
        let end = base.saturating_add(size);
        self.iter()
            .any(|pool| base < pool.end() && pool.physical_base < end)
    }

    /// Places (if dynamic), checks and records `declaration`; logs and skips it on any
    /// problem. `ram` is usable RAM, `taken` what no pool may overlap (kernel, initrd, device
    /// tree, firmware reservations). `tree` is the device tree whose `dma-ranges` give a
    /// device-tree pool its device base.
    pub fn declare(
        &mut self,
        declaration: &PoolDeclaration<'static>,
        source: PoolSource,
        ram: &RangeSet<64>,
        taken: &RangeSet<64>,
        tree: Option<&DeviceTree<'static>>,
    ) {
        let name = declaration.name;
        let Some(slot) = self.pools.iter().position(Option::is_none) else {
            error!("DMA pool `{name}` skipped: more than {MAX_POOLS} pools");
            return;
        };
        if let Some(device) = declaration
            .devices()
            .find(|device| self.iter().any(|pool| pool.devices().any(|d| d == *device)))
        {
            log::info!("DMA pool `{name}` ({source:?}) skipped: device {device} already has a pool from the device tree");
            return;
        }
        if let Some(other) = self.iter().find(|pool| pool.default && declaration.default) {
            if other.source == PoolSource::DeviceTree && source == PoolSource::Manifest {
                // As for device pools, the platform description wins.
                log::info!(
                    "DMA pool `{name}` (Manifest) skipped: the device tree's `{}` is the default pool",
                    other.name
                );
            } else {
                error!(
                    "DMA pool `{name}` refused: `{}` is already the default pool",
                    other.name
                );
            }
            return;
        }
        if declaration.devices().next().is_none() && !declaration.default {
            warn!("DMA pool `{name}` serves no device; dmad will not hand it out");
        }
        let ram_list = to_list(ram);
        let mut taken_list = to_list(taken);
        for pool in self.iter() {
            push(&mut taken_list, (pool.physical_base, pool.size));
        }
        let ram_ranges = &ram_list.1[..ram_list.0];
        let taken_ranges = &taken_list.1[..taken_list.0];
        let (base, size) = match declaration.placement {
            Placement::Static { base, size } => (base, size),
            Placement::Dynamic { size, .. } => {
                match image::platform::place_pool(declaration, ram_ranges, taken_ranges) {
                    Some(base) => (base, size),
                    None => {
                        error!("DMA pool `{name}` skipped: no free RAM fits {size:#x} bytes with its alignment and limits");
                        return;
                    }
                }
            }
        };
        let Some(end) = base.checked_add(size) else {
            error!("DMA pool `{name}` skipped: {base:#x} + {size:#x} overflows");
            return;
        };
        if !ram.contains_range(base, size) {
            error!("DMA pool `{name}` skipped: {base:#x}..{end:#x} is not inside RAM");
            return;
        }
        if taken.overlaps(base, size) || self.overlaps(base, size) {
            error!("DMA pool `{name}` skipped: {base:#x}..{end:#x} overlaps the kernel, boot data or another pool");
            return;
        }
        let device_base = match (source, tree) {
            (PoolSource::DeviceTree, Some(tree)) => match tree.pool_device_base(name, base, size) {
                Ok(device_base) => device_base,
                Err(problem) => {
                    error!(
                        "DMA pool `{name}` refused: device {} cannot address {base:#x}..{end:#x}: {}",
                        problem.device, problem.reason
                    );
                    return;
                }
            },
            _ => match declaration.device_address(base) {
                Some(device_base) if device_base.checked_add(size).is_some() => device_base,
                _ => {
                    error!(
                        "DMA pool `{name}` skipped: device offset makes its device addresses overflow"
                    );
                    return;
                }
            },
        };
        let mut devices = [None; MAX_POOL_DEVICES];
        for (slot, device) in devices.iter_mut().zip(declaration.devices()) {
            *slot = Some(device);
        }
        self.pools[slot] = Some(DeclaredPool {
            name,
            devices,
            physical_base: base,
            device_base,
            size,
            no_map: declaration.no_map,
            source,
            default: declaration.default,
            cache: declaration.cache,
        });
    }
}

type RangeList = (usize, [(u64, u64); 64]);

fn to_list(set: &RangeSet<64>) -> RangeList {
    let mut list = (0, [(0, 0); 64]);
    for range in set.iter() {
        push(&mut list, (range.start, range.end - range.start));
    }
    list
}

fn push(list: &mut RangeList, range: (u64, u64)) {
    if list.0 < list.1.len() {
        list.1[list.0] = range;
        list.0 += 1;
    }
}
