//! What the machine is: memory map, initrd, command line and device tree, read once at boot.
//!
//! x86_64 hands us the PVH memory map and module list directly; aarch64 hands us a device
//! tree, from which `/memory`, `/memreserve/` and `/chosen` give the same facts. Everything
//! after this module sees one [`Platform`].

mod acpi;
mod device_tree;
mod machine;

pub use machine::published as machine_description;

use crate::arch::{Arch, Cpu};
use image::initfs::Archive;
use image::manifest::Manifest;
use kernel_core::boot::{BootInfo, MemoryRegion, PhysicalRange, RegionKind, MAX_REGIONS};
use kernel_core::machine::MachineDescription;
use kernel_core::CommandLine;
use log::{error, info, warn};

/// The facts the kernel learned about the machine at boot.
pub struct Platform {
    /// The raw boot information from the arch crate.
    pub boot: BootInfo,
    /// Memory-map entries, in the order the firmware or device tree gave them.
    pub regions: [Option<MemoryRegion>; MAX_REGIONS],
    /// The kernel command line.
    pub command_line: CommandLine<'static>,
    /// Where the initrd lies, if the boot loader gave one.
    pub initrd_range: Option<PhysicalRange>,
    /// The initrd's bytes.
    pub initrd: Option<&'static [u8]>,
    /// The flattened device tree's bytes, on machines that have one.
    pub device_tree: Option<&'static [u8]>,
    /// What the firmware tables (ACPI or the device tree) say the machine is.
    pub machine: MachineDescription,
}

impl Platform {
    /// Reads the platform description the boot protocol left for us.
    pub fn discover(boot: &BootInfo) -> Self {
        let mut platform = Platform {
            boot: *boot,
            regions: boot.regions,
            command_line: CommandLine::default(),
            initrd_range: boot.initrd,
            initrd: None,
            device_tree: None,
            machine: MachineDescription::new(),
        };
        if let Some(range) = boot.command_line {
            let text = core::str::from_utf8(physical_bytes(range)).unwrap_or("");
            platform.command_line = CommandLine::new(text);
        }
        if let Some(range) = boot.device_tree {
            let bytes = readable_device_tree(physical_bytes(range));
            platform.device_tree = Some(bytes);
            platform.read_device_tree(bytes);
        }
        platform.initrd = platform.initrd_range.map(physical_bytes);
        platform.machine = machine::describe(&platform);
        machine::publish(&platform.machine);
        Cpu::use_machine(&platform.machine);
        platform
    }

    fn read_device_tree(&mut self, bytes: &'static [u8]) {
        let tree = match image::platform::DeviceTree::new(bytes) {
            Ok(tree) => tree,
            Err(reason) => {
                error!("device tree unreadable: {reason:?}");
                return;
            }
        };
        let mut info = self.boot;
        for (base, size) in tree.memory_regions() {
            info.push_region(MemoryRegion {
                base,
                size,
                kind: RegionKind::Ram,
            });
        }
        for (base, size) in tree.memory_reservations() {
            info.push_region(MemoryRegion {
                base,
                size,
                kind: RegionKind::Reserved,
            });
        }
        self.regions = info.regions;
        if let Some((start, end)) = tree.initrd() {
            self.initrd_range = Some(PhysicalRange {
                base: start,
                size: end.saturating_sub(start),
            });
        }
        if let Some(arguments) = tree.bootargs() {
            self.command_line = CommandLine::new(arguments);
        }
    }

    /// The test suite this boot asks for: `coherent.suite=` on the command line, else the
    /// manifest's `test_suite` (test images only).
    pub fn requested_test_suite(&self) -> Option<&str> {
        let manifest_suite = self
            .manifest()
            .and_then(|manifest| manifest.image().ok())
            .and_then(|image| image.test_suite);
        self.command_line.get("coherent.suite").or(manifest_suite)
    }

    /// The device tree, if the machine has one and it parses.
    pub fn device_tree(&self) -> Option<image::platform::DeviceTree<'static>> {
        image::platform::DeviceTree::new(self.device_tree?).ok()
    }

    /// Memory-map entries in order.
    pub fn regions(&self) -> impl Iterator<Item = &MemoryRegion> {
        self.regions.iter().flatten()
    }

    /// Bytes of usable RAM.
    pub fn ram_bytes(&self) -> u64 {
        self.regions()
            .filter(|r| r.kind == RegionKind::Ram)
            .map(|r| r.size)
            .sum()
    }

    /// Prints the memory map as a table.
    pub fn log_memory_map(&self) {
        info!("physical memory map:");
        for region in self.regions() {
            info!(
                "  {:#014x}..{:#014x} {:>10} KiB  {:?}",
                region.base,
                region.end(),
                region.size / 1024,
                region.kind
            );
        }
        info!(
            "  usable RAM: {} MiB ({} bytes)",
            self.ram_bytes() >> 20,
            self.ram_bytes()
        );
        let image = self.boot.kernel_image;
        info!(
            "kernel image at {:#x}, {} KiB",
            image.base,
            image.size / 1024
        );
        if let Some(tree) = self.boot.device_tree {
            info!("device tree at {:#x}, {} bytes", tree.base, tree.size);
        }
    }

    /// The initfs archive, if there is an initrd and it parses.
    pub fn initfs(&self) -> Option<Archive<'static>> {
        Archive::new(self.initrd?).ok()
    }

    /// The image manifest, if the initfs has a well-formed one.
    pub fn manifest(&self) -> Option<Manifest<'static>> {
        let entry = self.initfs()?.find("manifest.toml")?;
        Manifest::parse(core::str::from_utf8(entry.data).ok()?).ok()
    }

    /// Prints where the initrd is and what the initfs holds.
    pub fn log_initfs(&self) {
        let (Some(range), Some(bytes)) = (self.initrd_range, self.initrd) else {
            warn!("no initrd: the boot loader gave none");
            return;
        };
        info!("initrd at {:#x}, {} bytes", range.base, range.size);
        match Archive::new(bytes) {
            Ok(archive) => {
                for entry in archive.entries() {
                    info!("  initfs: {:<32} {:>8} bytes", entry.path, entry.data.len());
                }
            }
            Err(reason) => error!("initrd is not a valid initfs: {reason:?}"),
        }
        match self.manifest() {
            Some(manifest) => match manifest.image() {
                Ok(image) => info!("manifest: image `{}`", image.name),
                Err(reason) => error!("manifest: {reason:?}"),
            },
            None => warn!("initfs has no readable manifest.toml"),
        }
    }
}

/// Room for a compacted device tree (QEMU's `virt` tree is about 10 KiB of content).
const DEVICE_TREE_BUFFER: usize = 256 * 1024;

/// The device tree as the reader accepts it: the blob itself, or a copy without the NOP
/// tokens libfdt leaves when QEMU edits a `-dtb` blob.
fn readable_device_tree(blob: &'static [u8]) -> &'static [u8] {
    if image::platform::DeviceTree::new(blob).is_ok() {
        return blob;
    }
    static mut BUFFER: [u8; DEVICE_TREE_BUFFER] = [0; DEVICE_TREE_BUFFER];
    // SAFETY: `Platform::discover` runs once, at boot, on one CPU; nothing else names BUFFER.
    let buffer = unsafe { &mut *core::ptr::addr_of_mut!(BUFFER) };
    match image::platform::without_nops(blob, buffer) {
        Ok(compact) => compact,
        Err(reason) => {
            error!("device tree cannot be compacted: {reason:?}");
            blob
        }
    }
}

/// The bytes of a physical range the boot loader placed and nobody writes.
fn physical_bytes(range: PhysicalRange) -> &'static [u8] {
    let start = Cpu::physical_to_virtual(range.base) as *const u8;
    // SAFETY: the boot protocol placed these bytes (initrd, command line, device tree) in
    // memory the early page tables map; the kernel never writes or frees them.
    unsafe { core::slice::from_raw_parts(start, range.size as usize) }
}
