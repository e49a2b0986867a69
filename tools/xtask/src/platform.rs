//! The aarch64 platform description: QEMU's own device tree plus coherent's DMA pools.
//!
//! xtask asks QEMU for the device tree of exactly the machine it is about to boot
//! (`dumpdtb`), adds a `/reserved-memory` `shared-dma-pool` node for each device pool and
//! links it from the device's node with `memory-region` (the binding Linux uses), then boots
//! with `-dtb`. x86_64 has no device tree; its pools come from the image manifest.

use crate::Result;
use harness::Machine;
use image::platform::{augment, PoolSpec};
use std::path::{Path, PathBuf};

/// QEMU `virt` gives the first `-device virtio-*-device` the virtio-mmio transport with the
/// highest base address; that is where the block device appears.
pub const VIRTIO_BLOCK_NODE: &str = "/virtio_mmio@a003e00";

/// The DMA pools coherent declares in the aarch64 device tree.
pub fn aarch64_pools() -> Vec<PoolSpec> {
    vec![PoolSpec {
        name: "virtio-blk0-pool".into(),
        base: None,
        size: 8 << 20,
        align: 2 << 20,
        no_map: true,
        device_node_path: VIRTIO_BLOCK_NODE.into(),
        device_name: "virtio-blk0".into(),
    }]
}

/// Writes the augmented device tree for `machine` next to `initrd` and returns its path.
pub fn device_tree_for(machine: &Machine, directory: &Path, stem: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(directory)
        .map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
    let base = directory.join(format!("{stem}-qemu.dtb"));
    let _ = std::fs::remove_file(&base);
    machine
        .dump_device_tree(&base)
        .map_err(|error| format!("cannot get QEMU's device tree: {error}"))?;
    let bytes =
        std::fs::read(&base).map_err(|error| format!("cannot read {}: {error}", base.display()))?;
    let augmented = augment(&bytes, &aarch64_pools())
        .map_err(|error| format!("cannot add DMA pools to the device tree: {error}"))?;
    let path = directory.join(format!("{stem}.dtb"));
    std::fs::write(&path, augmented)
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    Ok(path)
}
