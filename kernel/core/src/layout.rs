//! The kernel's virtual address layout, the same on both CPUs.
//!
//! Both CPUs translate 48-bit virtual addresses with 4-level, 4 KiB-granule tables, so one
//! layout serves both: user space in the lower half, the kernel in the upper half
//! (x86_64: canonical addresses with bit 47 set; aarch64: the TTBR1 range).
//!
//! | range | what |
//! | --- | --- |
//! | `0 .. USER_TOP` | user space (per process) |
//! | `LINEAR_MAP_BASE ..` | every page of RAM at `LINEAR_MAP_BASE + physical`, write-back, except DMA pools |
//! | `DEVICE_WINDOW_BASE ..` | device registers the kernel maps on demand (Device / Uncached) |
//! | `KERNEL_STACKS_BASE ..` | kernel stacks, each with an unmapped guard page below it |
//! | `KERNEL_IMAGE_BASE + physical` | the kernel image (text RX, rodata R, data RW) |

/// First address above user space.
pub const USER_TOP: u64 = 0x0000_8000_0000_0000;
/// Where RAM is mapped linearly: physical address `p` is at `LINEAR_MAP_BASE + p`.
pub const LINEAR_MAP_BASE: u64 = 0xFFFF_8000_0000_0000;
/// The most physical address space the linear map covers (16 TiB).
pub const LINEAR_MAP_SIZE: u64 = 1 << 44;
/// Where the kernel maps device registers.
pub const DEVICE_WINDOW_BASE: u64 = 0xFFFF_C000_0000_0000;
/// Size of the device window.
pub const DEVICE_WINDOW_SIZE: u64 = 1 << 39;
/// Where kernel stacks are mapped.
pub const KERNEL_STACKS_BASE: u64 = 0xFFFF_E000_0000_0000;
/// The kernel image runs at `KERNEL_IMAGE_BASE + physical` (the top 2 GiB).
pub const KERNEL_IMAGE_BASE: u64 = 0xFFFF_FFFF_8000_0000;
/// The page size the kernel manages.
pub const PAGE_SIZE: u64 = 4096;

const _: () = assert!(LINEAR_MAP_BASE + LINEAR_MAP_SIZE <= DEVICE_WINDOW_BASE);
const _: () = assert!(DEVICE_WINDOW_BASE + DEVICE_WINDOW_SIZE <= KERNEL_STACKS_BASE);
const _: () = assert!(KERNEL_STACKS_BASE < KERNEL_IMAGE_BASE);

/// Rounds `value` down to a page boundary.
pub const fn page_floor(value: u64) -> u64 {
    value & !(PAGE_SIZE - 1)
}

/// Rounds `value` up to a page boundary, or `None` on overflow.
pub const fn page_ceiling(value: u64) -> Option<u64> {
    match value.checked_add(PAGE_SIZE - 1) {
        Some(sum) => Some(page_floor(sum)),
        None => None,
    }
}
