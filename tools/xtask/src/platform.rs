//! The aarch64 platform description: QEMU's own device tree plus coherent's DMA pools.
//!
//! xtask asks QEMU for the device tree of exactly the machine it is about to boot
//! (`dumpdtb`), adds a `/reserved-memory` `shared-dma-pool` node for each device pool of a
//! device-tree node and links it from that node with `memory-region` (the binding Linux
//! uses), then boots with `-dtb`. The real devices — the virtio block device and NVMe — are
//! PCI functions, which no node describes: their pools come from the image manifest, as on
//! x86_64, which has no device tree. So the default machine's tree gets no pool, and the
//! `shared-dma-pool` path is exercised by the test machines' devices below.
//!
//! Test machines ([`Platform::Test`]) also get what the `platform` suite checks:
//! - a `simple-bus` [`TEST_BUS`] whose `dma-ranges` map child bus address = physical +
//!   [`TEST_DEVICE_OFFSET`] over the first 4 GiB of RAM (one entry `<0x1_4000_0000
//!   0x4000_0000 0x1_0000_0000>`), holding test device `dma-test0` with its own pool;
//! - a default pool (`linux,dma-default`), serving no device of its own;
//! - a second test device `dma-test1` at the root, with no pool (it borrows the default one).
//!
//! The test devices never really DMA (QEMU translates nothing), so only their addresses
//! are checked. x86_64 test images get
//! the same through the `platform` suite's manifest (`user::PLATFORM_TEST_MANIFEST`).

use crate::Result;
use harness::Machine;
use image::platform::{augment_with, BusSpec, Extras, PoolSpec};
use std::path::{Path, PathBuf};

/// The bus of the test device that sees memory at an offset.
pub const TEST_BUS: &str = "dma-test-bus";

/// What the test bus adds to a physical address: its devices see RAM 4 GiB up, so a
/// device address is never mistaken for the physical one.
pub const TEST_DEVICE_OFFSET: u64 = 0x1_0000_0000;

/// Where RAM starts on QEMU `virt`.
const VIRT_RAM_BASE: u64 = 0x4000_0000;

/// Which device tree a machine gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    /// What `cargo xtask run` and the benchmarks boot: the real devices' pools only.
    Default,
    /// A test image: also the test bus, test devices and a default pool.
    Test,
}

/// The DMA pools coherent declares in the aarch64 device tree (test machines only).
pub fn aarch64_pools(platform: Platform) -> Vec<PoolSpec> {
    let mut pools = Vec::new();
    if platform == Platform::Test {
        pools.push(PoolSpec {
            name: "dma-test0-pool".into(),
            base: None,
            size: 1 << 20,
            align: 1 << 20,
            no_map: true,
            device_node_path: format!("/{TEST_BUS}/dma-test0"),
            device_name: "dma-test0".into(),
            default: false,
        });
        pools.push(PoolSpec {
            name: "dma-default-pool".into(),
            base: None,
            size: 1 << 20,
            align: 1 << 20,
            no_map: true,
            device_node_path: String::new(),
            device_name: String::new(),
            default: true,
        });
    }
    pools
}

/// The nodes a test machine gets besides pools.
pub fn aarch64_extras(platform: Platform) -> Extras {
    match platform {
        Platform::Default => Extras::default(),
        Platform::Test => Extras {
            buses: vec![BusSpec {
                name: TEST_BUS.into(),
                dma_ranges: vec![(
                    VIRT_RAM_BASE + TEST_DEVICE_OFFSET,
                    VIRT_RAM_BASE,
                    0x1_0000_0000,
                )],
                devices: vec!["dma-test0".into()],
            }],
            devices: vec!["dma-test1".into()],
        },
    }
}

/// Writes the augmented device tree for `machine` next to `initrd` and returns its path.
pub fn device_tree_for(
    machine: &Machine,
    directory: &Path,
    stem: &str,
    platform: Platform,
) -> Result<PathBuf> {
    std::fs::create_dir_all(directory)
        .map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
    let base = directory.join(format!("{stem}-qemu.dtb"));
    let _ = std::fs::remove_file(&base);
    machine
        .dump_device_tree(&base)
        .map_err(|error| format!("cannot get QEMU's device tree: {error}"))?;
    let bytes =
        std::fs::read(&base).map_err(|error| format!("cannot read {}: {error}", base.display()))?;
    let augmented = augment_with(&bytes, &aarch64_pools(platform), &aarch64_extras(platform))
        .map_err(|error| format!("cannot add DMA pools to the device tree: {error}"))?;
    let path = directory.join(format!("{stem}.dtb"));
    std::fs::write(&path, augmented)
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    Ok(path)
}
