//! Host tests for the device-tree reader, on fixture blobs written with `vm-fdt`.

mod augment;
mod dma_ranges;
mod fixture;
mod iommu;
mod machine;
mod placement;
mod pools;
mod robustness;
mod tree;
