//! The kernel heap: a buddy heap that starts in a static bootstrap arena and grows from
//! frames once the linear map exists.
//!
//! The frame allocator keeps its free lists on the heap, so the heap cannot start on frames;
//! a 2 MiB arena in `.bss` breaks the cycle. [`grow`] then adds linear-mapped frames.

use buddy_system_allocator::LockedHeap;
use core::ptr::addr_of_mut;

const BOOTSTRAP_SIZE: usize = 2 << 20;

#[repr(C, align(4096))]
struct Arena([u8; BOOTSTRAP_SIZE]);

static mut BOOTSTRAP: Arena = Arena([0; BOOTSTRAP_SIZE]);

#[global_allocator]
static HEAP: LockedHeap<32> = LockedHeap::empty();

/// Starts the heap on the bootstrap arena.
///
/// # Safety
/// Call exactly once, before any allocation.
pub unsafe fn init() {
    let start = addr_of_mut!(BOOTSTRAP) as usize;
    // SAFETY: the arena is a static used by nothing else, and this runs once (see `# Safety`).
    unsafe { HEAP.lock().init(start, BOOTSTRAP_SIZE) };
}

/// Adds `pages` frames, reached through the linear map, to the heap. Returns whether the
/// frames could be had.
pub fn grow(pages: u64) -> bool {
    let Some(run) = super::frames::allocate(pages) else {
        return false;
    };
    let start = super::physical_to_virtual(run.physical);
    let size = (run.pages * kernel_core::layout::PAGE_SIZE) as usize;
    // SAFETY: the run was just allocated for the heap alone and is mapped by the linear map.
    unsafe { HEAP.lock().add_to_heap(start, start + size) };
    true
}
