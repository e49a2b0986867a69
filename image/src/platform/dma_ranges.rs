//! Bus `dma-ranges`: the address a device uses for a physical page, as Linux's
//! `of_dma_get_range` and `phys_to_dma` compute it.
//!
//! A device's DMA map comes from the nearest node, starting at the device itself and going up
//! (the root excluded), whose `dma-ranges` is not empty:
//! - an empty `dma-ranges` means "no translation here, look further up";
//! - a bus (not the device itself) with no `dma-ranges` at all ends the search: the device
//!   gets no map, so device address = physical address (Linux returns `-ENODEV` there and
//!   configures no offset);
//! - no such node at all also means identity.
//!
//! Each entry of the chosen node's `dma-ranges` is `(child-bus-address, parent-bus-address,
//! length)`, with the node's own `#address-cells` for the child address, its parent's
//! `#address-cells` for the parent address and the node's `#size-cells` for the length. The
//! parent address is then translated up through every higher bus's `dma-ranges` to a CPU
//! (physical) address (Linux's `of_translate_dma_address`): a bus with a missing or empty
//! `dma-ranges` passes addresses through unchanged (1:1); a bus with entries must have one
//! that contains the address.
//!
//! Decisions where Linux is lenient, each the strict choice so a broken tree shows at boot:
//! - cell counts must be 1 or 2 (no 3-cell PCI addresses), lengths must be whole entries, and
//!   at most [`MAX_DMA_RANGES`] entries are read; otherwise the map is an error;
//! - an entry whose parent address translates nowhere is dropped (as Linux); if every entry
//!   is dropped the map is an error (Linux would fall back to no offset);
//! - [`DmaMap::phys_to_dma`] checks the whole range `[phys, phys + size)`, not only its first
//!   byte, and one entry must hold all of it.
//!
//! The tree is read through the same checked blob as everything else here (the `fdt` crate
//! after `structure::check`); the `fdt` crate has no parent links, so ancestors come from a
//! bounded depth-first walk ([`MAX_DEPTH`]).

use fdt::node::FdtNode;

use super::cells::{read_number, read_u32, CELL_BYTES};
use super::reserved::device_name;
use super::tree::{node_cells, phandle_of, DeviceTree};

/// The most `dma-ranges` entries one device's map holds.
pub const MAX_DMA_RANGES: usize = 8;
/// The deepest node (root = depth 1) whose ancestors can be found.
pub(crate) const MAX_DEPTH: usize = 16;

/// One window of a device's DMA map: `size` bytes at CPU address `cpu_start` appear to the
/// device at `dma_start` (Linux's `struct bus_dma_region`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaRange {
    /// CPU (physical) address of the window's first byte.
    pub cpu_start: u64,
    /// Device address of the window's first byte.
    pub dma_start: u64,
    /// Length in bytes.
    pub size: u64,
}

/// How a device sees physical memory: either identity (no windows), or only through its
/// windows, each with its own offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaMap {
    /// The windows, filled from the front; none means identity.
    ranges: [Option<DmaRange>; MAX_DMA_RANGES],
}

impl DmaMap {
    /// Device address = physical address, everywhere.
    pub const IDENTITY: DmaMap = DmaMap {
        ranges: [None; MAX_DMA_RANGES],
    };

    /// Whether the map is the identity.
    pub fn is_identity(&self) -> bool {
        self.ranges.iter().all(Option::is_none)
    }

    /// The device address of `[phys, phys + size)`, or `None` if no single window holds all
    /// of it (or it wraps past 2^64). `size` 0 is treated as 1 byte.
    pub fn phys_to_dma(&self, phys: u64, size: u64) -> Option<u64> {
        let last = phys.checked_add(size.max(1) - 1)?;
        if self.is_identity() {
            return Some(phys);
        }
        self.ranges().find_map(|range| {
            let window_last = range.cpu_start.checked_add(range.size.checked_sub(1)?)?;
            (phys >= range.cpu_start && last <= window_last)
                .then(|| range.dma_start.checked_add(phys - range.cpu_start))
                .flatten()
        })
    }

    /// The windows (none for the identity).
    pub fn ranges(&self) -> impl Iterator<Item = DmaRange> + '_ {
        self.ranges.iter().flatten().copied()
    }
}

/// Why a device's DMA map, or a pool's device address, could not be worked out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaReachError<'a> {
    /// The device (its coherent device name) or node concerned.
    pub device: &'a str,
    /// What is wrong.
    pub reason: &'static str,
}

impl core::fmt::Display for DmaReachError<'_> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(formatter, "device {}: {}", self.device, self.reason)
    }
}

/// A node and its ancestors, root first.
struct Lineage<'t, 'a> {
    nodes: [Option<FdtNode<'t, 'a>>; MAX_DEPTH],
    len: usize,
}

impl<'t, 'a> Lineage<'t, 'a> {
    fn get(&self, index: usize) -> FdtNode<'t, 'a> {
        self.nodes[index].expect("lineage entries below len are set")
    }
}

fn same_node(first: &FdtNode<'_, '_>, second: &FdtNode<'_, '_>) -> bool {
    core::ptr::eq(first.name.as_ptr(), second.name.as_ptr())
}

/// Depth-first search for `target` below `node` (at `depth`), filling `lineage` on the way.
fn find_lineage<'t, 'a>(
    node: FdtNode<'t, 'a>,
    target: &FdtNode<'_, '_>,
    lineage: &mut Lineage<'t, 'a>,
    depth: usize,
) -> bool {
    if depth >= MAX_DEPTH {
        return false;
    }
    lineage.nodes[depth] = Some(node);
    lineage.len = depth + 1;
    if same_node(&node, target) {
        return true;
    }
    node.children()
        .any(|child| find_lineage(child, target, lineage, depth + 1))
}

/// The `dma-ranges` entries of `node` (whose parent is `parent`) as (child, parent, length).
fn entries<'a>(
    node: &FdtNode<'_, 'a>,
    parent: &FdtNode<'_, 'a>,
    value: &'a [u8],
) -> Result<impl Iterator<Item = (u64, u64, u64)> + 'a, &'static str> {
    let (child_cells, size_cells) = node_cells(node);
    let (parent_cells, _) = node_cells(parent);
    let cells_ok = |cells: usize| (1..=2).contains(&cells);
    if !cells_ok(child_cells) || !cells_ok(size_cells) || !cells_ok(parent_cells) {
        return Err("dma-ranges needs #address-cells and #size-cells of 1 or 2");
    }
    let entry = (child_cells + parent_cells + size_cells) * CELL_BYTES;
    if !value.len().is_multiple_of(entry) {
        return Err("dma-ranges length is not whole (child, parent, length) entries");
    }
    if value.len() / entry > MAX_DMA_RANGES {
        return Err("more than 8 dma-ranges entries");
    }
    Ok(value.chunks_exact(entry).map(move |bytes| {
        let child = read_number(bytes, child_cells).unwrap_or(0);
        let bytes = &bytes[child_cells * CELL_BYTES..];
        let parent_address = read_number(bytes, parent_cells).unwrap_or(0);
        let length = read_number(&bytes[parent_cells * CELL_BYTES..], size_cells).unwrap_or(0);
        (child, parent_address, length)
    }))
}

/// Translates `address`, an address on the bus below `lineage[level]`, up to a CPU address:
/// through the `dma-ranges` of `lineage[level]`, then `lineage[level - 1]`, and so on down to
/// depth 1 (the root's children). `None` if some level with entries has none containing it.
fn translate_up(lineage: &Lineage<'_, '_>, level: usize, address: u64) -> Option<u64> {
    let mut address = address;
    for index in (1..=level).rev() {
        let node = lineage.get(index);
        let Some(value) = node.property("dma-ranges").map(|property| property.value) else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        let mut found = None;
        for (child, parent, length) in entries(&node, &lineage.get(index - 1), value).ok()? {
            if address >= child && address - child < length {
                found = parent.checked_add(address - child);
                break;
            }
        }
        address = found?;
    }
    Some(address)
}

impl<'a> DeviceTree<'a> {
    /// The DMA map of `device` (see the module documentation).
    ///
    /// # Errors
    ///
    /// The node is more than 16 levels deep or not in this tree, or the `dma-ranges` that
    /// applies is malformed or translates to no CPU address.
    pub fn dma_map(&self, device: &FdtNode<'_, 'a>) -> Result<DmaMap, DmaReachError<'a>> {
        let error = |reason| DmaReachError {
            device: device.name,
            reason,
        };
        let root = self.fdt.find_node("/").ok_or(error("tree has no root"))?;
        let mut lineage = Lineage {
            nodes: [None; MAX_DEPTH],
            len: 0,
        };
        if !find_lineage(root, device, &mut lineage, 0) {
            return Err(error("node not found within 16 levels of the root"));
        }
        let device_level = lineage.len - 1;
        let mut level = device_level;
        let (value, level) = loop {
            if level == 0 {
                return Ok(DmaMap::IDENTITY);
            }
            match lineage.get(level).property("dma-ranges") {
                Some(property) if !property.value.is_empty() => break (property.value, level),
                Some(_) => {}
                None if level < device_level => return Ok(DmaMap::IDENTITY),
                None => {}
            }
            level -= 1;
        };
        let node = lineage.get(level);
        let mut ranges = [None; MAX_DMA_RANGES];
        let mut count = 0;
        for (child, parent, size) in
            entries(&node, &lineage.get(level - 1), value).map_err(error)?
        {
            if size == 0 {
                return Err(error("dma-ranges entry of length zero"));
            }
            let Some(cpu_start) = translate_up(&lineage, level - 1, parent) else {
                continue;
            };
            ranges[count] = Some(DmaRange {
                cpu_start,
                dma_start: child,
                size,
            });
            count += 1;
        }
        if count == 0 {
            return Err(error("no dma-ranges entry translates to a CPU address"));
        }
        Ok(DmaMap { ranges })
    }

    /// The device address of the pool node `pool` (a `/reserved-memory` child) placed at
    /// `[base, base + size)`: the same for every device whose `memory-region` names it, or
    /// `base` if no device does.
    ///
    /// # Errors
    ///
    /// A [`DmaReachError`] naming the device: its map is broken, it cannot reach the whole
    /// pool, or two devices would see the pool at different addresses.
    pub fn pool_device_base(
        &self,
        pool: &str,
        base: u64,
        size: u64,
    ) -> Result<u64, DmaReachError<'a>> {
        let Some(phandle) = self
            .fdt
            .find_node("/reserved-memory")
            .into_iter()
            .flat_map(|parent| parent.children())
            .find(|node| node.name == pool)
            .and_then(|node| phandle_of(&node))
        else {
            return Ok(base);
        };
        let mut agreed = None;
        for device in self.fdt.all_nodes().filter(|node| {
            node.property("memory-region").is_some_and(|property| {
                property
                    .value
                    .chunks_exact(CELL_BYTES)
                    .any(|cell| read_u32(cell) == Some(phandle))
            })
        }) {
            let name = device_name(&device);
            let map = self.dma_map(&device).map_err(|problem| DmaReachError {
                device: name,
                reason: problem.reason,
            })?;
            let address = map.phys_to_dma(base, size).ok_or(DmaReachError {
                device: name,
                reason: "its dma-ranges do not reach the whole pool",
            })?;
            if agreed.is_some_and(|earlier| earlier != address) {
                return Err(DmaReachError {
                    device: name,
                    reason: "devices sharing the pool see it at different addresses",
                });
            }
            agreed = Some(address);
        }
        Ok(agreed.unwrap_or(base))
    }

    /// The DMA map of the node at `path` (for tests and diagnostics).
    ///
    /// # Errors
    ///
    /// As [`DeviceTree::dma_map`], or no node at `path`.
    pub fn dma_map_of(&self, path: &'a str) -> Result<DmaMap, DmaReachError<'a>> {
        let node = self.fdt.find_node(path).ok_or(DmaReachError {
            device: path,
            reason: "no such node",
        })?;
        self.dma_map(&node)
    }
}
