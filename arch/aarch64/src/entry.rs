//! The first Rust code: from the boot assembly to the kernel's `kernel_main`.

use crate::trap;
use kernel_core::boot::{BootInfo, PhysicalRange};

extern "Rust" {
    /// The arch-neutral kernel's entry point.
    fn kernel_main(info: &BootInfo) -> !;
}

extern "C" {
    static __kernel_virtual_start: u8;
    static __kernel_virtual_end: u8;
}

/// The flattened device tree header's magic number (big-endian).
const FDT_MAGIC: u32 = 0xd00d_feed;

/// Called on the boot stack, MMU on, with the device tree's physical address.
pub extern "C" fn aarch64_entry(device_tree: u64) -> ! {
    crate::smp::init_boot_cpu();
    // SAFETY: first thing on the boot CPU, nothing else running.
    unsafe { trap::init() };
    let start = core::ptr::addr_of!(__kernel_virtual_start) as u64 - crate::KERNEL_VIRTUAL_OFFSET;
    let end = core::ptr::addr_of!(__kernel_virtual_end) as u64 - crate::KERNEL_VIRTUAL_OFFSET;
    let image = PhysicalRange {
        base: start,
        size: end - start,
    };
    let mut info = BootInfo::new(crate::NAME, image);
    info.device_tree = device_tree_range(device_tree);
    // SAFETY: `kernel_main` is defined by the kernel crate with this exact signature.
    unsafe { kernel_main(&info) }
}

/// The device tree's extent, from its header; `None` if there is no valid header.
fn device_tree_range(physical: u64) -> Option<PhysicalRange> {
    if physical == 0 || !physical.is_multiple_of(8) {
        return None;
    }
    let header = crate::physical_to_virtual(physical) as *const u32;
    // SAFETY: QEMU placed the device tree in RAM, which the early tables map; the first two
    // header words are its magic and total size.
    let (magic, size) = unsafe { (header.read_volatile(), header.add(1).read_volatile()) };
    (u32::from_be(magic) == FDT_MAGIC).then(|| PhysicalRange {
        base: physical,
        size: u64::from(u32::from_be(size)),
    })
}
