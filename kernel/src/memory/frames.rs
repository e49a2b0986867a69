//! The frame allocator: physical pages for page tables, stacks, heap and processes.
//!
//! A buddy allocator (`buddy_system_allocator::FrameAllocator`) over usable RAM, counted so
//! tests can prove that work returns every frame it took. Only ranges from
//! [`super::physical::PhysicalLayout::usable`] are ever added, so no frame of the kernel,
//! the initrd, the device tree, a firmware reservation or a DMA pool can be handed out.
//!
//! Frames lent between address spaces are counted ([`FrameCounts`], host-tested in
//! `kernel_core`): the space that allocated a run holds each of its frames once, and every
//! mapping of a frame lent through `fmap` holds it once more. [`release_run`] and
//! [`release_pages`] free a frame only when its last holder lets go; the counts live under
//! the allocator's own lock, so counting and freeing are one step.

use buddy_system_allocator::FrameAllocator;
use kernel_core::frame_counts::{FrameCounts, OutOfMemory, Release};
use kernel_core::layout::PAGE_SIZE;
use kernel_core::ranges::RangeSet;
use spin::Mutex;

/// Buddy orders 0 ..= 31: blocks up to 2^31 pages.
type Buddy = FrameAllocator<32>;

struct State {
    buddy: Buddy,
    free_pages: u64,
    counts: FrameCounts,
}

static FRAMES: Mutex<State> = Mutex::new(State {
    buddy: Buddy::new(),
    free_pages: 0,
    counts: FrameCounts::new(),
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
    /// One past the last byte.
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

/// Adds one holder to each of `pages` (allocator frames some space holds already), or to
/// none of them when the kernel heap cannot grow the table.
pub fn share(pages: &[u64]) -> Result<(), OutOfMemory> {
    FRAMES.lock().counts.share(pages)
}

/// One holder of each of `pages` lets go; frees those it held last.
pub fn release_pages(pages: impl IntoIterator<Item = u64>) {
    let mut state = FRAMES.lock();
    for page in pages {
        state.release(page);
    }
}

/// The space that allocated `run` lets go of it: freed whole when none of it is lent, else
/// page by page, keeping the pages other spaces still map.
pub fn release_run(run: FrameRun) {
    let mut state = FRAMES.lock();
    if state.counts.any_shared(run.physical, run.end()) {
        for page in 0..run.pages {
            state.release(run.physical + page * PAGE_SIZE);
        }
    } else {
        state
            .buddy
            .dealloc((run.physical / PAGE_SIZE) as usize, run.pages as usize);
        state.free_pages += run.pages;
    }
}

impl State {
    /// One holder of `page` lets go; the last one frees it.
    fn release(&mut self, page: u64) {
        if self.counts.release(page) == Release::Free {
            self.buddy.dealloc((page / PAGE_SIZE) as usize, 1);
            self.free_pages += 1;
        }
    }
}

/// Frames mapped by more than one address space right now.
pub fn shared_frames() -> usize {
    FRAMES.lock().counts.shared_frames()
}

/// Free frames right now.
pub fn free_pages() -> u64 {
    FRAMES.lock().free_pages
}
