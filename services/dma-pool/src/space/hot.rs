//! The hot cache: one recently released block per order, held back from the structures.
//!
//! Most drivers allocate and free buffers of the same few sizes over and over. Returning such
//! a block to the structures merges it with its free buddies (up to a whole branch of the
//! chunk buddy in an empty pool) only for the next request of that size to split it again.
//! Like the per-CPU page lists in front of Linux's buddy allocator, a released block instead
//! waits in `hot[order]` when that slot is empty, and the next request of the same order
//! whose alignment it satisfies takes it in O(1) without touching any bitmap.
//!
//! Exactness is kept the way the spare chunk keeps it: hot pages count as free, and a request
//! the structures cannot satisfy while hot blocks exist returns every hot block to them
//! (merging as a release would) and searches again. Read-only views (free extents, the
//! largest free block, the self-check) overlay the hot blocks on the structures. At most one
//! block per order, so the cache is a fixed array: nothing allocates.
//!
//! A block may carry a *tag*, the caller's name for it (the pool passes the slot of the
//! buffer record it parks, see `buffers.rs`): the allocation that takes the block gets the
//! tag back, a flush reports each tag it returns to the structures, and
//! [`untag_any`](FreeSpace::untag_any) takes one back when the caller needs the record.

use super::words::{ALL_FREE, CHUNK_PAGES, CHUNK_SHIFT};
use super::FreeSpace;
use crate::summary::{align_up, is_aligned};

/// Hot slots: one per order a block can have (a pool has at most 2^32 pages, so 0..=32),
/// rounded up to 64 so that `order & 63` indexes them without a bounds check.
pub(super) const HOT_ORDERS: usize = 64;

/// The hot slot of `order`.
#[inline(always)]
fn slot(order: u32) -> usize {
    order as usize & (HOT_ORDERS - 1)
}

/// The tag of a hot block released without one.
pub(crate) const NO_TAG: u32 = u32::MAX;

impl FreeSpace {
    /// Takes the hot block of `order`, with its tag, if there is one aligned to
    /// `2^align_order` frames.
    #[inline(always)]
    pub(super) fn take_hot(&mut self, order: u32, align_order: u32) -> Option<(u64, u32)> {
        let bit = 1u64 << order;
        if self.hot_orders & bit == 0 {
            return None;
        }
        let page = self.hot[slot(order)];
        // A hot block is aligned to its size, so only a larger alignment needs a look.
        if align_order != order && !is_aligned(self.first_frame + page, align_order) {
            return None;
        }
        self.hot_orders &= !bit;
        Some((page, self.hot_tag[slot(order)]))
    }

    /// Parks a released block, with its tag, in the hot slot of its order; false if that
    /// slot is taken.
    #[inline(always)]
    pub(super) fn put_hot(&mut self, page: u64, order: u32, tag: u32) -> bool {
        let bit = 1u64 << order;
        if self.hot_orders & bit != 0 {
            debug_assert_ne!(self.hot[slot(order)], page, "pages released twice");
            return false;
        }
        self.hot[slot(order)] = page;
        self.hot_tag[slot(order)] = tag;
        self.hot_orders |= bit;
        true
    }

    /// Returns every hot block to the structures, calling `flushed` with each tag.
    pub(super) fn flush_hot(&mut self, flushed: &mut impl FnMut(u32)) {
        while self.hot_orders != 0 {
            let order = self.hot_orders.trailing_zeros();
            self.hot_orders &= !(1u64 << order);
            let tag = self.hot_tag[order as usize];
            if tag != NO_TAG {
                flushed(tag);
            }
            self.release_structural(self.hot[order as usize], order);
        }
    }

    /// Takes the tag off one tagged hot block (the block stays hot) and returns it, if any
    /// hot block has a tag.
    pub(crate) fn untag_any(&mut self) -> Option<u32> {
        let mut orders = self.hot_orders;
        while orders != 0 {
            let order = orders.trailing_zeros() as usize;
            orders &= orders - 1;
            let tag = core::mem::replace(&mut self.hot_tag[order], NO_TAG);
            if tag != NO_TAG {
                return Some(tag);
            }
        }
        None
    }

    /// Takes the tag off every tagged hot block whose tag `pred` accepts (the blocks stay
    /// hot), calling `untagged` with each.
    pub(crate) fn untag_where(
        &mut self,
        mut pred: impl FnMut(u32) -> bool,
        mut untagged: impl FnMut(u32),
    ) {
        let mut orders = self.hot_orders;
        while orders != 0 {
            let order = orders.trailing_zeros() as usize;
            orders &= orders - 1;
            let tag = self.hot_tag[order];
            if tag != NO_TAG && pred(tag) {
                self.hot_tag[order] = NO_TAG;
                untagged(tag);
            }
        }
    }

    /// Whether some hot block has a tag.
    pub(crate) fn has_tags(&self) -> bool {
        self.hot_tags().next().is_some()
    }

    /// Every tagged hot block as `(pool page, order, tag)` (for checks).
    pub(crate) fn hot_tags(&self) -> impl Iterator<Item = (u64, u32, u32)> + '_ {
        let mut orders = self.hot_orders;
        core::iter::from_fn(move || loop {
            if orders == 0 {
                return None;
            }
            let order = orders.trailing_zeros();
            orders &= orders - 1;
            let tag = self.hot_tag[order as usize];
            if tag != NO_TAG {
                return Some((self.hot[order as usize], order, tag));
            }
        })
    }

    /// Every hot block as `(first absolute frame, order)`.
    pub(super) fn hot_blocks(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        let mut orders = self.hot_orders;
        core::iter::from_fn(move || {
            if orders == 0 {
                return None;
            }
            let order = orders.trailing_zeros();
            orders &= orders - 1;
            Some((self.first_frame + self.hot[order as usize], order))
        })
    }

    /// The bits of absolute chunk `chunk` that hot blocks cover.
    pub(super) fn hot_mask(&self, chunk: u64) -> u64 {
        if self.hot_orders == 0 {
            return 0;
        }
        let chunk_first = chunk << CHUNK_SHIFT;
        let mut mask = 0;
        for (frame, order) in self.hot_blocks() {
            let end = frame + (1u64 << order);
            if end <= chunk_first || frame >= chunk_first + CHUNK_PAGES {
                continue;
            }
            if frame <= chunk_first && end >= chunk_first + CHUNK_PAGES {
                return ALL_FREE;
            }
            // A block smaller than a chunk lies inside it (blocks are size-aligned).
            mask |= super::words::run_mask((frame - chunk_first) as u32, order);
        }
        mask
    }

    /// The largest order of a size-aligned run inside the free extents (hot blocks included):
    /// what an allocation could get. O(chunks); for statistics.
    pub(super) fn largest_aligned_block_order(&self) -> Option<u32> {
        let mut largest: Option<u32> = None;
        self.for_each_free_extent(|start, length| {
            let first = self.first_frame + start;
            let end = first + length;
            let fits = (0..64u32).rev().find(|&order| {
                align_up(first, order)
                    .and_then(|aligned| aligned.checked_add(1u64 << order))
                    .is_some_and(|block_end| block_end <= end)
            });
            largest = largest.max(fits);
        });
        largest
    }

    /// Checks that every hot block is size-aligned and inside the pool (overlaps with each
    /// other or with the structures show up as a wrong free-page count in `check`).
    pub(super) fn check_hot(&self) -> Result<(), &'static str> {
        for (frame, order) in self.hot_blocks() {
            if !is_aligned(frame, order)
                || frame < self.first_frame
                || frame + (1u64 << order) > self.first_frame + self.pages
            {
                return Err("a hot block is misaligned or outside the pool");
            }
        }
        Ok(())
    }
}
