//! Free-space metadata of one pool: which pages are free, found and updated in O(log n).
//!
//! The pool's pages are grouped into 64-page *chunks* aligned in the device address space.
//! A chunk is in exactly one of three states:
//!
//! - part of a free block of the [chunk buddy](buddy::ChunkBuddy) (free, its word is zero);
//! - part of an allocated buffer of 64 pages or more (its word is zero);
//! - *split*: handed to the small-buffer allocator, which tracks its pages one bit each in the
//!   chunk's word. At most one split chunk, the *spare*, is entirely free: when a chunk's
//!   last small buffer goes, it becomes the spare, or returns to the buddy if a spare exists.
//!   A chunk-buddy allocation that fails merges the spare back and retries, so the search
//!   stays exact while a pool cycling small buffers never splits a buddy branch. The pool's partial chunks at either end (when the pool does
//!   not start or end on a 64-page boundary) are split forever; pages outside the pool read as
//!   allocated.
//!
//! Buffers of 1..32 pages live in split chunks; `runs[order]` has a bit per chunk saying "an
//! aligned free run of `2^order` pages is here", so the lowest fitting split chunk is found
//! through a 64-ary summary. Buffers of 64 pages or more are chunk-buddy blocks.
//!
//! Metadata per 64-page chunk: 64 bits of page word, 6 run bits, under 2 buddy bits, and the
//! summaries above them (about 1/63 more): under 73.2 bits per chunk, 1.15 bits per page.

mod buddy;
mod extents;
mod hot;
mod small;
pub(crate) mod words;

#[cfg(test)]
mod tests;

use alloc::vec;
use alloc::vec::Vec;
use core::array;

use crate::summary::SummaryBitmap;
use buddy::ChunkBuddy;
use hot::HOT_ORDERS;
pub(crate) use hot::NO_TAG;
use words::{run_mask, ALL_FREE, CHUNK_PAGES, CHUNK_SHIFT, SMALL_ORDER_LIMIT};

/// Number of small orders kept in `runs` (orders 0..=5).
const SMALL_ORDERS: usize = SMALL_ORDER_LIMIT as usize + 1;

/// Which pages of one pool are free, and how to find aligned free blocks quickly.
#[derive(Clone, Debug)]
pub(crate) struct FreeSpace {
    /// Absolute device frame number (device address / 4 KiB) of the pool's first page.
    first_frame: u64,
    /// Pages in the pool.
    pages: u64,
    /// Absolute chunk number of the chunk holding the first page (chunk slot 0).
    origin_chunk: u64,
    /// One free-page word per chunk slot; meaningful for split chunks, zero otherwise.
    words: Vec<u64>,
    /// `runs[order]` bit `slot`: split chunk `slot` holds an aligned free run of `2^order`.
    runs: [SummaryBitmap; SMALL_ORDERS],
    /// Free blocks of whole chunks.
    buddy: ChunkBuddy,
    /// Free pages in the structures (chunk words and buddy), kept up to date. The hot
    /// blocks' pages are not in it: bit `order` of `hot_orders` stands for a block of
    /// `2^order` pages, so `hot_orders` read as a number *is* the count of hot pages, and
    /// a block moving in or out of the hot cache changes no counter.
    structural_free_pages: u64,
    /// One entirely free split chunk kept back from the buddy, so that a pool cycling small
    /// buffers does not split and re-merge a whole buddy branch each time.
    spare: Option<usize>,
    /// The hot cache (see `hot.rs`): `hot[order]` is the pool page of a free block of
    /// `2^order` pages held back from the structures above, valid when bit `order` of
    /// `hot_orders` is set. Its pages count as free (see `structural_free_pages`).
    hot: [u64; HOT_ORDERS],
    /// `hot_tag[order]`: the tag `hot[order]` was released with, or [`NO_TAG`].
    hot_tag: [u32; HOT_ORDERS],
    /// Bit `order` set: `hot[order]` holds a block.
    hot_orders: u64,
}

impl FreeSpace {
    /// Free-space metadata for `pages` pages starting at absolute frame `first_frame`, all free.
    ///
    /// # Panics
    ///
    /// Panics if `pages` is zero or the range overflows; the registry validates both first.
    pub(crate) fn new(first_frame: u64, pages: u64) -> Self {
        assert!(pages > 0, "empty pool");
        let end_frame = first_frame
            .checked_add(pages)
            .expect("pool range overflows");
        let origin_chunk = first_frame >> CHUNK_SHIFT;
        let slots = (((end_frame - 1) >> CHUNK_SHIFT) - origin_chunk + 1) as usize;
        let interior_start = first_frame.div_ceil(CHUNK_PAGES);
        let interior_end = end_frame >> CHUNK_SHIFT;
        let interior = if interior_start < interior_end {
            interior_start..interior_end
        } else {
            0..0
        };
        let mut space = FreeSpace {
            first_frame,
            pages,
            origin_chunk,
            words: vec![0; slots],
            runs: array::from_fn(|_| SummaryBitmap::new(slots)),
            buddy: ChunkBuddy::new(interior.clone()),
            structural_free_pages: pages,
            spare: None,
            hot: [0; HOT_ORDERS],
            hot_tag: [NO_TAG; HOT_ORDERS],
            hot_orders: 0,
        };
        // The partial chunks at either end are split for good: their in-pool pages are free.
        for slot in [0, slots - 1] {
            let chunk = origin_chunk + slot as u64;
            if !interior.contains(&chunk) {
                space.words[slot] = space.in_pool_mask(chunk);
                space.update_runs(slot);
            }
        }
        space
    }

    /// Pages in the pool.
    #[inline]
    pub(crate) fn pages(&self) -> u64 {
        self.pages
    }

    /// Free pages.
    #[inline]
    pub(crate) fn free_pages(&self) -> u64 {
        // Hot pages: see `structural_free_pages`.
        self.structural_free_pages + self.hot_orders
    }

    /// Bytes of free-space metadata (page words, run bitmaps, buddy levels, summaries).
    pub(crate) fn metadata_bytes(&self) -> usize {
        self.words.len() * 8
            + self
                .runs
                .iter()
                .map(SummaryBitmap::metadata_bytes)
                .sum::<usize>()
            + self.buddy.metadata_bytes()
    }

    /// The chunk slot holding pool page `page`.
    #[inline]
    pub(crate) fn chunk_slot(&self, page: u64) -> usize {
        (((self.first_frame + page) >> CHUNK_SHIFT) - self.origin_chunk) as usize
    }

    /// How many chunk slots the pool spans.
    pub(crate) fn chunk_slots(&self) -> usize {
        self.words.len()
    }

    /// The largest order a size-aligned allocation could get right now, if any page is free.
    pub(crate) fn largest_free_order(&self) -> Option<u32> {
        if self.hot_orders != 0 {
            return self.largest_aligned_block_order();
        }
        let buddy = self.buddy.largest_free_order();
        let spare = self
            .spare
            .map(|slot| self.buddy.merged_order(self.origin_chunk + slot as u64));
        if let Some(order) = buddy.max(spare) {
            return Some(order + CHUNK_SHIFT);
        }
        (0..SMALL_ORDERS as u32)
            .rev()
            .find(|&order| !self.runs[order as usize].is_empty())
    }

    /// Takes `2^order` free pages whose first device frame is a multiple of `2^align_order`
    /// (`align_order >= order`) and returns the first page's index in the pool, or `None`
    /// when no such run is free anywhere in the pool.
    ///
    /// The hot block of `order` is taken first when it is suitably aligned; otherwise the
    /// structures are searched, and if they have no room while hot blocks exist, the hot
    /// blocks are returned to them and the search repeated, so the answer stays exact.
    #[inline]
    pub(crate) fn allocate(&mut self, order: u32, align_order: u32) -> Option<u64> {
        self.allocate_tagged(order, align_order, &mut |_| {})
            .map(|(page, _)| page)
    }

    /// The hot block of `order`, with its tag, if it is aligned to `2^align_order` frames:
    /// the first step of [`allocate_tagged`](Self::allocate_tagged) alone.
    #[inline(always)]
    pub(crate) fn allocate_hot(&mut self, order: u32, align_order: u32) -> Option<(u64, u32)> {
        self.take_hot(order, align_order)
    }

    /// [`allocate`](Self::allocate), also returning the tag the block was released with
    /// ([`NO_TAG`] unless it is a tagged hot block); `flushed` is called with the tag of
    /// every tagged hot block returned to the structures on the way.
    #[inline(always)]
    pub(crate) fn allocate_tagged(
        &mut self,
        order: u32,
        align_order: u32,
        flushed: &mut impl FnMut(u32),
    ) -> Option<(u64, u32)> {
        if let Some(found) = self.take_hot(order, align_order) {
            return Some(found);
        }
        let page = match self.allocate_structural(order, align_order) {
            Some(page) => page,
            None if self.hot_orders != 0 => {
                self.flush_hot(flushed);
                self.allocate_structural(order, align_order)?
            }
            None => return None,
        };
        self.structural_free_pages -= 1 << order;
        Some((page, NO_TAG))
    }

    /// Returns the `2^order` pages starting at pool page `page`, allocated earlier with the
    /// same order: into the hot cache if its slot for `order` is empty, else to the
    /// structures.
    #[inline]
    pub(crate) fn release(&mut self, page: u64, order: u32) {
        self.release_tagged(page, order, NO_TAG);
    }

    /// [`release`](Self::release) with a tag (the caller's record of the block): true if
    /// the block went into the hot cache, where it keeps the tag until it is allocated
    /// again ([`allocate_tagged`](Self::allocate_tagged) returns it), flushed (the flush
    /// reports it) or [untagged](Self::untag_any).
    #[inline(always)]
    pub(crate) fn release_tagged(&mut self, page: u64, order: u32, tag: u32) -> bool {
        if self.put_hot(page, order, tag) {
            return true;
        }
        self.release_structural(page, order);
        false
    }

    /// [`allocate`](Self::allocate) from the chunk words and the buddy alone.
    fn allocate_structural(&mut self, order: u32, align_order: u32) -> Option<u64> {
        debug_assert!(align_order >= order);
        let frame = if order <= SMALL_ORDER_LIMIT {
            self.allocate_small(order, align_order)?
        } else {
            let chunk_order = order - CHUNK_SHIFT;
            let chunk_align = align_order - CHUNK_SHIFT;
            let chunk = match self.allocate_chunks(chunk_order, chunk_align) {
                Some(chunk) => chunk,
                None => {
                    // The spare chunk may be what completes the block: merge it and retry.
                    let spare = self.spare.take()?;
                    self.return_chunk(spare);
                    self.allocate_chunks(chunk_order, chunk_align)?
                }
            };
            chunk << CHUNK_SHIFT
        };
        Some(frame - self.first_frame)
    }

    /// Returns a block to the chunk words and the buddy (not the hot cache), merging it.
    fn release_structural(&mut self, page: u64, order: u32) {
        self.structural_free_pages += 1 << order;
        let frame = self.first_frame + page;
        if order > SMALL_ORDER_LIMIT {
            self.buddy
                .release(frame >> CHUNK_SHIFT, order - CHUNK_SHIFT);
            return;
        }
        let slot = self.chunk_slot(page);
        let mask = run_mask((frame % CHUNK_PAGES) as u32, order);
        debug_assert_eq!(self.words[slot] & mask, 0, "pages released twice");
        self.words[slot] |= mask;
        self.update_runs(slot);
        if self.words[slot] == ALL_FREE {
            // The chunk's last small buffer is gone: it becomes the spare, or rejoins the
            // buddy if there is a spare already.
            match self.spare {
                None => self.spare = Some(slot),
                Some(_) => self.return_chunk(slot),
            }
        }
    }

    /// The bits of absolute chunk `chunk` that lie inside the pool.
    fn in_pool_mask(&self, chunk: u64) -> u64 {
        let chunk_first = chunk << CHUNK_SHIFT;
        let start = self.first_frame.max(chunk_first) - chunk_first;
        let end = (self.first_frame + self.pages).min(chunk_first + CHUNK_PAGES) - chunk_first;
        let below_end = if end == CHUNK_PAGES {
            ALL_FREE
        } else {
            (1u64 << end) - 1
        };
        below_end & !((1u64 << start) - 1)
    }
}
