//! The free-space allocator alone, without the registry's records: for the benchmark, which
//! measures it against Linux's bitmap doing the same work (find and mark pages, clear them),
//! and for callers that keep their own buffer records.

use crate::space::FreeSpace;

/// Aligned power-of-two runs of pages over one range of device frames, exactly as a
/// [`Pool`](crate::Pool) finds them, with no buffer table, owners or quotas: the caller must
/// release only runs it allocated, with the order it allocated them with (checked in debug
/// builds only; a wrong release corrupts this allocator's state, never memory).
#[derive(Clone, Debug)]
pub struct PageAllocator {
    space: FreeSpace,
}

impl PageAllocator {
    /// `pages` free pages starting at device frame `first_frame` (device address / 4 KiB).
    ///
    /// # Panics
    ///
    /// Panics if `pages` is zero or the range overflows.
    pub fn new(first_frame: u64, pages: u64) -> Self {
        PageAllocator {
            space: FreeSpace::new(first_frame, pages),
        }
    }

    /// Takes `2^order` pages whose first frame is a multiple of `2^align_order`
    /// (`align_order >= order`); returns the first page's index, or `None` when no such run
    /// is free anywhere.
    pub fn allocate(&mut self, order: u32, align_order: u32) -> Option<u64> {
        assert!(align_order >= order, "alignment below the run's size");
        self.space.allocate(order, align_order)
    }

    /// Returns the run of `2^order` pages at page `page`.
    pub fn release(&mut self, page: u64, order: u32) {
        self.space.release(page, order);
    }

    /// Free pages.
    pub fn free_pages(&self) -> u64 {
        self.space.free_pages()
    }

    /// Checks every invariant of the free space (O(pages); for tests).
    pub fn check(&self) -> Result<(), &'static str> {
        self.space.check()
    }
}
