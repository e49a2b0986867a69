//! `/reserved-memory`: `shared-dma-pool` children become pool declarations, linked to the
//! devices whose `memory-region` points at them (the binding Linux uses).
//!
//! Decisions, each the strict choice so a mistake shows at boot rather than as corruption:
//! - sizes and static bases must be whole pages; a dynamic pool's `alignment` is raised to at
//!   least one page;
//! - a static pool has exactly one `reg` range; a dynamic pool at most four `alloc-ranges`;
//! - `/reserved-memory` must have an empty (identity) `ranges` or none; cell counts of 1 or 2;
//! - `reusable` is recorded but coherent never lends pool pages out;
//! - bus `dma-ranges` are applied once a pool is placed ([`DeviceTree::pool_device_base`] in
//!   `dma_ranges.rs`), so a declaration's `device_offset` stays 0;
//! - `linux,dma-default` marks the global coherent pool ([`PoolDeclaration::default`]);
//! - a device's name is its node name unless the node has `coherent,device-name`;
//! - a pool is write-back ([`PoolCache::WriteBack`]) when it serves at least one device and
//!   every device it serves is marked `dma-coherent` on its own node (the device snoops the
//!   CPU's caches, so cached buffers need no sync); any other pool is write-combining, as
//!   Linux maps declared coherent memory. The property is read on the device node only, not
//!   inherited from its buses.

use fdt::node::FdtNode;

use super::cells::{read_number, read_u32, Pairs, CELL_BYTES};
use super::error::PoolNodeError;
use super::tree::{node_cells, phandle_of, DeviceTree};
use crate::pool::{Placement, PoolCache, PoolDeclaration, MAX_ALLOC_RANGES, PAGE_SIZE};

/// The `compatible` string of a per-device coherent pool.
pub const SHARED_DMA_POOL: &str = "shared-dma-pool";
/// The property that makes a pool the global coherent pool (Linux `linux,dma-default`).
pub const DMA_DEFAULT_PROPERTY: &str = "linux,dma-default";
/// The property that overrides a device node's name as the pool's device name.
pub const DEVICE_NAME_PROPERTY: &str = "coherent,device-name";
/// The property that says a device's DMA snoops the CPU's caches (Linux `dma-coherent`).
pub const DMA_COHERENT_PROPERTY: &str = "dma-coherent";

/// A `/reserved-memory` child with a fixed `reg`: memory the kernel must not hand out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReservedRegion<'a> {
    /// The node's name.
    pub name: &'a str,
    /// Physical base.
    pub base: u64,
    /// Size in bytes.
    pub size: u64,
    /// Keep out of the kernel's linear map.
    pub no_map: bool,
}

impl<'a> DeviceTree<'a> {
    /// Every `shared-dma-pool` child of `/reserved-memory`, in tree order, read into a
    /// declaration with the devices that reference it, or the reason it could not be.
    pub fn reserved_memory_pools(
        &self,
    ) -> impl Iterator<Item = Result<PoolDeclaration<'a>, PoolNodeError<'a>>> + '_ {
        let context = self.reserved_memory_context();
        self.reserved_memory_children()
            .filter(|node| is_pool(node))
            .map(move |node| self.read_pool(&node, context))
    }

    /// Every `/reserved-memory` child with a `reg`, pool or not: memory the frame allocator
    /// must skip. Dynamic pools appear only once placed, so they are not listed here.
    pub fn reserved_regions(
        &self,
    ) -> impl Iterator<Item = Result<ReservedRegion<'a>, PoolNodeError<'a>>> + '_ {
        let context = self.reserved_memory_context();
        self.reserved_memory_children()
            .filter(|node| node.property("reg").is_some())
            .map(move |node| {
                let error = |reason| PoolNodeError {
                    node: node.name,
                    reason,
                };
                let (base, size) = read_static_reg(&node, context).map_err(error)?;
                Ok(ReservedRegion {
                    name: node.name,
                    base,
                    size,
                    no_map: node.property("no-map").is_some(),
                })
            })
    }

    /// Device nodes whose `memory-region` is malformed or names a phandle no node has.
    pub fn memory_region_errors(&self) -> impl Iterator<Item = PoolNodeError<'a>> + '_ {
        self.fdt.all_nodes().filter_map(move |node| {
            let value = node.property("memory-region")?.value;
            let error = |reason| {
                Some(PoolNodeError {
                    node: node.name,
                    reason,
                })
            };
            if value.is_empty() || !value.len().is_multiple_of(CELL_BYTES) {
                return error("memory-region is not a list of phandles");
            }
            let dangling = value
                .chunks_exact(CELL_BYTES)
                .filter_map(read_u32)
                .any(|phandle| {
                    self.fdt
                        .all_nodes()
                        .all(|other| phandle_of(&other) != Some(phandle))
                });
            if dangling {
                return error("memory-region points to no node");
            }
            None
        })
    }

    fn reserved_memory_children(&self) -> impl Iterator<Item = FdtNode<'_, 'a>> {
        self.fdt
            .find_node("/reserved-memory")
            .into_iter()
            .flat_map(|parent| parent.children())
    }

    fn reserved_memory_context(&self) -> Context {
        let parent = self.fdt.find_node("/reserved-memory");
        let (address_cells, size_cells) = parent.as_ref().map_or((2, 1), node_cells);
        let identity = parent
            .and_then(|parent| parent.property("ranges"))
            .is_none_or(|ranges| ranges.value.is_empty());
        Context {
            address_cells,
            size_cells,
            identity,
        }
    }

    fn read_pool(
        &self,
        node: &FdtNode<'_, 'a>,
        context: Context,
    ) -> Result<PoolDeclaration<'a>, PoolNodeError<'a>> {
        let error = |reason| PoolNodeError {
            node: node.name,
            reason,
        };
        let placement = if node.property("reg").is_some() {
            let (base, size) = read_static_reg(node, context).map_err(error)?;
            Placement::Static { base, size }
        } else {
            read_dynamic(node, context).map_err(error)?
        };
        let mut pool = PoolDeclaration::new(node.name, placement);
        pool.no_map = node.property("no-map").is_some();
        pool.reusable = node.property("reusable").is_some();
        pool.default = node.property(DMA_DEFAULT_PROPERTY).is_some();
        let mut all_coherent = true;
        if let Some(phandle) = phandle_of(node) {
            for device in self
                .fdt
                .all_nodes()
                .filter(|device| references(device, phandle))
            {
                let name = device_name(&device);
                pool.add_device(name)
                    .map_err(|_| error("pool serves more than 4 devices"))?;
                all_coherent &= device.property(DMA_COHERENT_PROPERTY).is_some();
            }
        }
        if all_coherent && pool.devices().next().is_some() {
            pool.cache = PoolCache::WriteBack;
        }
        Ok(pool)
    }
}

/// What every child needs from `/reserved-memory` itself.
#[derive(Clone, Copy, Debug)]
struct Context {
    address_cells: usize,
    size_cells: usize,
    identity: bool,
}

impl Context {
    fn check(&self) -> Result<(), &'static str> {
        if !self.identity {
            return Err("/reserved-memory ranges is not empty (translation is not supported)");
        }
        if !(1..=2).contains(&self.address_cells) || !(1..=2).contains(&self.size_cells) {
            return Err("/reserved-memory #address-cells and #size-cells must be 1 or 2");
        }
        Ok(())
    }
}

fn is_pool(node: &FdtNode<'_, '_>) -> bool {
    node.compatible()
        .is_some_and(|list| list.all().any(|entry| entry == SHARED_DMA_POOL))
}

fn references(device: &FdtNode<'_, '_>, phandle: u32) -> bool {
    device.property("memory-region").is_some_and(|property| {
        property.value.len().is_multiple_of(CELL_BYTES)
            && property
                .value
                .chunks_exact(CELL_BYTES)
                .any(|cell| read_u32(cell) == Some(phandle))
    })
}

/// The device name a node gives the pools it references.
pub(crate) fn device_name<'a>(device: &FdtNode<'_, 'a>) -> &'a str {
    device
        .property(DEVICE_NAME_PROPERTY)
        .and_then(|property| property.as_str())
        .filter(|name| !name.is_empty())
        .unwrap_or(device.name)
}

fn read_static_reg(node: &FdtNode<'_, '_>, context: Context) -> Result<(u64, u64), &'static str> {
    context.check()?;
    let value = node
        .property("reg")
        .map_or(&[][..], |property| property.value);
    let mut pairs = Pairs::new(value, context.address_cells, context.size_cells);
    if !pairs.is_well_formed() || pairs.count_pairs() == 0 {
        return Err("reg length does not match #address-cells and #size-cells");
    }
    if pairs.count_pairs() > 1 {
        return Err("reg holds more than one range");
    }
    let (base, size) = pairs.next().ok_or("reg is empty")?;
    check_range(base, size)?;
    if !base.is_multiple_of(PAGE_SIZE) || !size.is_multiple_of(PAGE_SIZE) {
        return Err("reg base and size must be multiples of 4096");
    }
    Ok((base, size))
}

fn check_range(base: u64, size: u64) -> Result<(), &'static str> {
    if size == 0 {
        return Err("range has size zero");
    }
    if base.checked_add(size).is_none() {
        return Err("range wraps past 2^64");
    }
    Ok(())
}

fn read_dynamic(node: &FdtNode<'_, '_>, context: Context) -> Result<Placement, &'static str> {
    context.check()?;
    let cells_value = |name| -> Result<Option<u64>, &'static str> {
        let Some(property) = node.property(name) else {
            return Ok(None);
        };
        if property.value.len() != context.size_cells * CELL_BYTES {
            return Err("size or alignment does not match #size-cells");
        }
        Ok(read_number(property.value, context.size_cells))
    };
    let size = cells_value("size")?.ok_or("pool has neither reg nor size")?;
    if size == 0 || !size.is_multiple_of(PAGE_SIZE) {
        return Err("size must be a non-zero multiple of 4096");
    }
    let align = cells_value("alignment")?.unwrap_or(PAGE_SIZE);
    if !align.is_power_of_two() {
        return Err("alignment is not a power of two");
    }
    let mut alloc_ranges = [None; MAX_ALLOC_RANGES];
    if let Some(property) = node.property("alloc-ranges") {
        let pairs = Pairs::new(property.value, context.address_cells, context.size_cells);
        if !pairs.is_well_formed() || pairs.count_pairs() == 0 {
            return Err("alloc-ranges length does not match #address-cells and #size-cells");
        }
        if pairs.count_pairs() > MAX_ALLOC_RANGES {
            return Err("more than 4 alloc-ranges");
        }
        for (slot, (base, range_size)) in alloc_ranges.iter_mut().zip(pairs) {
            check_range(base, range_size)?;
            *slot = Some((base, range_size));
        }
    }
    Ok(Placement::Dynamic {
        size,
        align: align.max(PAGE_SIZE),
        limit: None,
        alloc_ranges,
    })
}
