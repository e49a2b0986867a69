//! The platform description: reading the flattened device tree (aarch64's `virt` machine
//! passes one in x0) and, on the host, adding coherent's DMA pools to QEMU's own tree.
//!
//! Reading uses the `fdt` crate after [`DeviceTree::new`] has checked the whole blob (the
//! crate panics on malformed input, the kernel must not). Everything here is `no_std` and
//! allocation-free: lookups return iterators borrowing the blob.
//!
//! Pools come from `/reserved-memory` children compatible with `shared-dma-pool`; see
//! [`DeviceTree::reserved_memory_pools`] and the decisions listed in `reserved.rs`. Dynamic
//! pools are placed by [`place_dynamic`] (highest fit), and [`check_overlaps`] vets a layout.
//!
//! A device's DMA address for a physical page follows its buses' `dma-ranges` as Linux's
//! `of_dma_get_range` / `phys_to_dma` compute it: [`DeviceTree::dma_map`],
//! [`DmaMap::phys_to_dma`] and [`DeviceTree::pool_device_base`] (decisions in
//! `dma_ranges.rs`).
//!
//! All ranges are `(base, size)` pairs in bytes, except [`DeviceTree::initrd`], which is
//! `(start, end)` as `/chosen` states it.

#[cfg(any(test, feature = "std"))]
mod augment;
mod cells;
mod compact;
mod dma_ranges;
mod error;
mod iommu;
mod machine;
mod node;
mod placement;
mod reserved;
mod structure;
mod tree;

#[cfg(any(test, feature = "std"))]
pub use augment::{augment, augment_with, BusSpec, Extras, PoolSpec, TEST_DEVICE_COMPATIBLE};
pub use compact::without_nops;
pub use dma_ranges::{DmaMap, DmaRange, DmaReachError, MAX_DMA_RANGES};
pub use error::{PlatformError, PoolNodeError};
pub use iommu::{IommuMapEntry, SmmuNode, MAX_IOMMU_MAP_ENTRIES};
pub use machine::{
    GicRegisters, PciHostNode, PciRange, PsciMethod, GIC_PPI_BASE, GIC_SPI_BASE, MAX_PCI_RANGES,
};
pub use node::{InterruptSpecifier, Node};
pub use placement::{check_overlaps, place_dynamic, place_pool, LayoutProblem};
pub use reserved::{ReservedRegion, DEVICE_NAME_PROPERTY, DMA_DEFAULT_PROPERTY, SHARED_DMA_POOL};
pub use tree::DeviceTree;
#[cfg(test)]
mod tests;
