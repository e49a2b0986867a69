//! Adding coherent's DMA pools to QEMU's own device tree, for aarch64 images (feature `std`).
//!
//! `xtask` dumps QEMU's tree (`-machine virt,dumpdtb=FILE`), calls [`augment`], and passes the
//! result with `-dtb`. The whole tree is re-emitted with `vm-fdt`: every node and property in
//! order, the memory reservations, the boot CPU, and every phandle unchanged. Then:
//! - `/reserved-memory` (`#address-cells = 2`, `#size-cells = 2`, empty `ranges`) gains one
//!   `shared-dma-pool` child per [`PoolSpec`], with a fresh phandle above every existing one;
//!   an existing `/reserved-memory` is reused (pools after its children) if it has the same
//!   cell counts;
//! - the device node at [`PoolSpec::device_node_path`] gains `memory-region = <phandle>` and
//!   `coherent,device-name = "..."`. A device that already has a `memory-region` is refused.
//!   A pool with an empty device path serves no device of its own;
//! - a [`PoolSpec::default`] pool gets `linux,dma-default` (the global coherent pool);
//! - with [`augment_with`], [`Extras`] adds root-level `simple-bus` nodes with `dma-ranges`
//!   and device nodes under them, and plain root-level device nodes (test devices that never
//!   really DMA: QEMU translates nothing, so only their addresses are checked). Pools may
//!   name these new nodes as their devices.

use fdt::node::FdtNode;
use vm_fdt::{FdtReserveEntry, FdtWriter};

use super::cells::read_u32;
use super::reserved::{DEVICE_NAME_PROPERTY, DMA_DEFAULT_PROPERTY, SHARED_DMA_POOL};
use super::tree::{node_cells, phandle_of, DeviceTree};
use crate::pool::PAGE_SIZE;

/// One pool to add to a device tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolSpec {
    /// The node name (`NAME@BASE` for a static pool, `NAME` for a dynamic one).
    pub name: String,
    /// Physical base for a static pool; `None` lets the kernel place it.
    pub base: Option<u64>,
    /// Size in bytes, a non-zero multiple of 4096.
    pub size: u64,
    /// Alignment of a dynamic pool, a power of two (ignored for a static pool).
    pub align: u64,
    /// Keep out of the kernel's linear map.
    pub no_map: bool,
    /// Full path of the device node the pool serves, e.g. `/virtio_mmio@a003e00`.
    pub device_node_path: String,
    /// The device name coherent uses for it, e.g. `virtio-blk0`.
    pub device_name: String,
    /// The global coherent pool (`linux,dma-default`).
    pub default: bool,
}

/// A bus to add at the root: `simple-bus`, 2 address and 2 size cells, empty `ranges`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BusSpec {
    /// The node name, e.g. `dma-test-bus`.
    pub name: String,
    /// `dma-ranges` entries `(child-bus-address, parent-bus-address, length)`; none writes
    /// an empty (identity) `dma-ranges`.
    pub dma_ranges: Vec<(u64, u64, u64)>,
    /// Device node names under it.
    pub devices: Vec<String>,
}

/// Nodes to add besides the pools.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extras {
    /// Buses with their devices.
    pub buses: Vec<BusSpec>,
    /// Device node names at the root.
    pub devices: Vec<String>,
}

/// The `compatible` of the device nodes [`Extras`] adds.
pub const TEST_DEVICE_COMPATIBLE: &str = "coherent,dma-test";

impl PoolSpec {
    fn check(&self) -> Result<(), String> {
        let problem = if self.size == 0 || !self.size.is_multiple_of(PAGE_SIZE) {
            "size must be a non-zero multiple of 4096"
        } else if self
            .base
            .is_some_and(|base| !base.is_multiple_of(PAGE_SIZE))
        {
            "base must be a multiple of 4096"
        } else if self
            .base
            .is_some_and(|base| base.checked_add(self.size).is_none())
        {
            "base + size wraps past 2^64"
        } else if self.base.is_none() && !self.align.is_power_of_two() {
            "align must be a power of two"
        } else if self.device_name.is_empty() && !self.device_node_path.is_empty() {
            "device name is empty"
        } else {
            return Ok(());
        };
        Err(format!("pool {}: {problem}", self.name))
    }

    fn node_name(&self) -> String {
        match self.base {
            Some(base) => format!("{}@{base:x}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Re-emits `base_dtb` with `pools` added; see the module documentation.
///
/// # Errors
///
/// A message naming the problem: an unreadable base tree, an invalid pool, a device path not
/// in the tree, a device that already has a `memory-region`, or a `vm-fdt` refusal.
pub fn augment(base_dtb: &[u8], pools: &[PoolSpec]) -> Result<Vec<u8>, String> {
    augment_with(base_dtb, pools, &Extras::default())
}

/// [`augment`], also adding the buses and devices of `extras`.
///
/// # Errors
///
/// As [`augment`].
pub fn augment_with(
    base_dtb: &[u8],
    pools: &[PoolSpec],
    extras: &Extras,
) -> Result<Vec<u8>, String> {
    let tree = DeviceTree::new(base_dtb).map_err(|error| format!("base device tree: {error}"))?;
    for pool in pools {
        pool.check()?;
    }
    let first_phandle = tree
        .fdt
        .all_nodes()
        .filter_map(|node| phandle_of(&node))
        .max()
        .unwrap_or(0)
        .checked_add(1)
        .ok_or("no phandle left")?;
    let reservations = tree
        .memory_reservations()
        .filter(|(_, size)| *size > 0)
        .map(|(base, size)| FdtReserveEntry::new(base, size))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("memory reservation: {error}"))?;
    let mut writer = FdtWriter::new_with_mem_reserv(&reservations)
        .map_err(|error| format!("memory reservations: {error}"))?;
    writer.set_boot_cpuid_phys(read_u32(&base_dtb[28..]).unwrap_or(0));
    let root = tree
        .fdt
        .find_node("/")
        .ok_or("base device tree has no root")?;
    let mut emitter = Emitter {
        writer,
        pools,
        extras,
        first_phandle,
        linked: pools
            .iter()
            .map(|pool| pool.device_node_path.is_empty())
            .collect(),
        wrote_pools: false,
    };
    emitter.node(&root, "")?;
    if let Some(index) = emitter.linked.iter().position(|linked| !linked) {
        return Err(format!(
            "device node {} not found",
            pools[index].device_node_path
        ));
    }
    emitter
        .writer
        .finish()
        .map_err(|error| format!("finishing device tree: {error}"))
}

/// The walk's state: the writer and which pools have been linked to their devices.
struct Emitter<'p> {
    writer: FdtWriter,
    pools: &'p [PoolSpec],
    extras: &'p Extras,
    first_phandle: u32,
    linked: Vec<bool>,
    wrote_pools: bool,
}

impl Emitter<'_> {
    fn node(&mut self, node: &FdtNode<'_, '_>, path: &str) -> Result<(), String> {
        let failed = |error: vm_fdt::Error| {
            format!("node {}: {error}", if path.is_empty() { "/" } else { path })
        };
        let name = if path.is_empty() { "" } else { node.name };
        let handle = self.writer.begin_node(name).map_err(failed)?;
        for property in node.properties() {
            // `phandle` goes through vm-fdt's uniqueness check; the value is kept.
            if let Some(phandle) = read_u32(property.value).filter(|_| property.name == "phandle") {
                self.writer.property_phandle(phandle).map_err(failed)?;
                continue;
            }
            self.writer
                .property(property.name, property.value)
                .map_err(failed)?;
        }
        let taken = node.property("memory-region").is_some()
            || node.property(DEVICE_NAME_PROPERTY).is_some();
        self.link_devices(taken, path)?;
        let is_reserved_memory = path == "/reserved-memory";
        if is_reserved_memory && node_cells(node) != (2, 2) {
            return Err(
                "existing /reserved-memory must have #address-cells = 2 and #size-cells = 2".into(),
            );
        }
        for child in node.children() {
            let child_path = format!("{path}/{}", child.name);
            self.node(&child, &child_path)?;
        }
        if is_reserved_memory {
            self.write_pools()?;
        }
        if path.is_empty() {
            self.write_extras()?;
        }
        if path.is_empty() && !self.wrote_pools {
            let reserved = self.writer.begin_node("reserved-memory").map_err(failed)?;
            self.writer
                .property_u32("#address-cells", 2)
                .map_err(failed)?;
            self.writer.property_u32("#size-cells", 2).map_err(failed)?;
            self.writer.property_null("ranges").map_err(failed)?;
            self.write_pools()?;
            self.writer.end_node(reserved).map_err(failed)?;
        }
        self.writer.end_node(handle).map_err(failed)
    }

    fn write_extras(&mut self) -> Result<(), String> {
        let extras = self.extras;
        for bus in &extras.buses {
            let failed = |error: vm_fdt::Error| format!("bus {}: {error}", bus.name);
            let node = self.writer.begin_node(&bus.name).map_err(failed)?;
            self.writer
                .property_string("compatible", "simple-bus")
                .map_err(failed)?;
            self.writer
                .property_u32("#address-cells", 2)
                .map_err(failed)?;
            self.writer.property_u32("#size-cells", 2).map_err(failed)?;
            self.writer.property_null("ranges").map_err(failed)?;
            let cells: Vec<u64> = bus
                .dma_ranges
                .iter()
                .flat_map(|(child, parent, length)| [*child, *parent, *length])
                .collect();
            self.writer
                .property_array_u64("dma-ranges", &cells)
                .map_err(failed)?;
            for device in &bus.devices {
                self.test_device(&format!("/{}", bus.name), device)?;
            }
            self.writer.end_node(node).map_err(failed)?;
        }
        for device in &extras.devices {
            self.test_device("", device)?;
        }
        Ok(())
    }

    fn test_device(&mut self, parent: &str, name: &str) -> Result<(), String> {
        let failed = |error: vm_fdt::Error| format!("device {parent}/{name}: {error}");
        let node = self.writer.begin_node(name).map_err(failed)?;
        self.writer
            .property_string("compatible", TEST_DEVICE_COMPATIBLE)
            .map_err(failed)?;
        self.link_devices(false, &format!("{parent}/{name}"))?;
        self.writer.end_node(node).map_err(failed)
    }

    fn link_devices(&mut self, taken: bool, path: &str) -> Result<(), String> {
        let failed = |error: vm_fdt::Error| format!("device node {path}: {error}");
        let mut phandles = Vec::new();
        let mut names = Vec::new();
        for (index, pool) in self.pools.iter().enumerate() {
            if !pool.device_node_path.is_empty() && pool.device_node_path == path {
                phandles.push(self.phandle(index));
                if !names.contains(&pool.device_name.as_str()) {
                    names.push(pool.device_name.as_str());
                }
                self.linked[index] = true;
            }
        }
        if phandles.is_empty() {
            return Ok(());
        }
        if taken {
            return Err(format!(
                "device node {path} already has memory-region or {DEVICE_NAME_PROPERTY}"
            ));
        }
        if names.len() > 1 {
            return Err(format!("device node {path} is given two device names"));
        }
        self.writer
            .property_array_u32("memory-region", &phandles)
            .map_err(failed)?;
        self.writer
            .property_string(DEVICE_NAME_PROPERTY, names[0])
            .map_err(failed)
    }

    fn phandle(&self, index: usize) -> u32 {
        self.first_phandle + index as u32
    }

    fn write_pools(&mut self) -> Result<(), String> {
        self.wrote_pools = true;
        for (index, pool) in self.pools.iter().enumerate() {
            let failed = |error: vm_fdt::Error| format!("pool {}: {error}", pool.name);
            let node = self.writer.begin_node(&pool.node_name()).map_err(failed)?;
            self.writer
                .property_string("compatible", SHARED_DMA_POOL)
                .map_err(failed)?;
            match pool.base {
                Some(base) => self
                    .writer
                    .property_array_u64("reg", &[base, pool.size])
                    .map_err(failed)?,
                None => {
                    self.writer
                        .property_u64("size", pool.size)
                        .map_err(failed)?;
                    self.writer
                        .property_u64("alignment", pool.align)
                        .map_err(failed)?;
                }
            }
            if pool.no_map {
                self.writer.property_null("no-map").map_err(failed)?;
            }
            if pool.default {
                self.writer
                    .property_null(DMA_DEFAULT_PROPERTY)
                    .map_err(failed)?;
            }
            self.writer
                .property_phandle(self.phandle(index))
                .map_err(failed)?;
            self.writer.end_node(node).map_err(failed)?;
        }
        Ok(())
    }
}
