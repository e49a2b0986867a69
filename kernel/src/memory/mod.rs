//! Physical memory, the kernel heap and declared DMA pools.
//!
//! Boot order ([`init`]): start the heap on its bootstrap arena; work out the physical layout
//! (RAM, reservations, DMA pools — [`physical`], [`pools`]); log it as one table; hand usable
//! RAM to the frame allocator ([`frames`]); build and activate the kernel's own tables
//! ([`kernel_space`]); grow the heap onto frames.
//!
//! Physical memory is always read through the linear map (`LINEAR_MAP_BASE + physical`),
//! which the arch crate's early tables provide from the first Rust instruction and the
//! kernel's own tables keep, so boot data borrowed early stays valid.

pub mod frames;
pub mod heap;
pub mod kernel_space;
pub mod physical;
pub mod pools;

use crate::platform::Platform;
use kernel_core::layout::LINEAR_MAP_BASE;
use physical::PhysicalLayout;

/// The kernel virtual address of physical address `physical` (RAM only).
pub fn physical_to_virtual(physical: u64) -> usize {
    (LINEAR_MAP_BASE + physical) as usize
}

/// Brings up the heap, the physical layout and the frame allocator.
pub fn init(platform: &Platform) -> PhysicalLayout {
    // SAFETY: called once, from `kernel_main`, before anything allocates.
    unsafe { heap::init() };
    let layout = PhysicalLayout::discover(platform);
    layout.log_table();
    pools::publish(&layout.pools);
    frames::init(&layout.usable);
    kernel_space::init(&layout);
    if !heap::grow(2048) {
        log::warn!("kernel heap stays on its 2 MiB bootstrap arena: no 8 MiB run of frames");
    }
    log::info!(
        "frame allocator: {} free pages ({} MiB)",
        frames::free_pages(),
        (frames::free_pages() * 4096) >> 20
    );
    layout
}
