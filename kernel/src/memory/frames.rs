//! The frame allocator: physical pages for page tables, stacks, heap and processes.
//!
//! A buddy allocator (`buddy_system_allocator::FrameAllocator`) over usable RAM, counted so
//! tests can prove that work returns every frame it took. Only ranges from
//! [`super::physical::PhysicalLayout::usable`] are ever added, so no frame of the kernel,
//! the initrd, the device tree, a firmware reservation or a DMA pool can be handed out.

use buddy_system_allocator::FrameAllocator;
use kernel_core::layout::PAGE_SIZE;
use kernel_core::ranges::RangeSet;
use spin::Mutex;

/// Buddy orders 0 ..= 31: blocks up to 2^31 pages.
type Buddy = FrameAllocator<32>;

struct State {
    buddy: Buddy,
    free_pages: u64,
}

static FRAMES: Mutex<State> = Mutex::new(State {
    buddy: Buddy::new(),
    free_pages: 0,
});

/// A run of physically contiguous frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRun {
    /// Physical address of the first frame.
    pub physical: u64,
    /// Number of frames (a power of two).
    pub pages: u64,
}

impl FrameRun {
    /// One past the last byte (test kernels only: the memory suite asks).
    #[cfg(feature = "test-suites")]
    pub fn end(&self) -> u64 {
        self.physical + self.pages * PAGE_SIZE
    }
}

/// Hands every usable page to the allocator. Needs the heap (the buddy lists live there).
pub fn init(usable: &RangeSet<64>) {
    let mut state = FRAMES.lock();
    for range in usable.iter() {
        let first = (range.start / PAGE_SIZE) as usize;
        let end = (range.end / PAGE_SIZE) as usize;
        state.buddy.add_frame(first, end);
        state.free_pages += (end - first) as u64;
    }
}

/// Allocates `pages` contiguous frames (rounded up to a power of two), aligned to their size.
/// The frames' contents are whatever was there; see [`allocate_zeroed`].
pub fn allocate(pages: u64) -> Option<FrameRun> {
    let pages = pages.max(1).checked_next_power_of_two()?;
    let mut state = FRAMES.lock();
    let first = state.buddy.alloc(usize::try_from(pages).ok()?)?;
    state.free_pages -= pages;
    Some(FrameRun {
        physical: first as u64 * PAGE_SIZE,
        pages,
    })
}

/// Allocates like [`allocate`] and zeroes the frames through the linear map.
pub fn allocate_zeroed(pages: u64) -> Option<FrameRun> {
    let run = allocate(pages)?;
    let start = super::physical_to_virtual(run.physical) as *mut u8;
    // SAFETY: the run was just allocated, so nothing else uses it, and the linear map covers
    // all usable RAM.
    unsafe { core::ptr::write_bytes(start, 0, (run.pages * PAGE_SIZE) as usize) };
    Some(run)
}

/// Returns frames from [`allocate`].
///
/// # Panics
/// If `run` is not page-aligned: only runs handed out by [`allocate`] may come back.
pub fn free(run: FrameRun) {
    assert!(
        run.physical.is_multiple_of(PAGE_SIZE),
        "freeing an unaligned frame run {run:?}"
    );
    let mut state = FRAMES.lock();
    state
        .buddy
        .dealloc((run.physical / PAGE_SIZE) as usize, run.pages as usize);
    state.free_pages += run.pages;
}

/// Free frames right now.
pub fn free_pages() -> u64 {
    FRAMES.lock().free_pages
}
