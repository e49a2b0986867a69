//! The small-buffer side of the free space: buffers of 1..32 pages inside split chunks.
//!
//! A request first looks for the lowest split chunk whose run bitmap says it holds an aligned
//! free run of the right size; only if none has one does it split a fresh chunk off the
//! buddy. Run bits are recomputed from a chunk's word after every change, touching the
//! summaries only for bits that flip.

use super::words::{
    aligned_run_starts, has_run, run_mask, ALL_FREE, CHUNK_SHIFT, SMALL_ORDER_LIMIT,
};
use super::FreeSpace;

impl FreeSpace {
    /// Small-order allocation: returns the absolute first frame.
    pub(super) fn allocate_small(&mut self, order: u32, align_order: u32) -> Option<u64> {
        let (slot, start) = if align_order <= SMALL_ORDER_LIMIT {
            match self.find_in_split_chunks(order, align_order) {
                Some(found) => found,
                None => (self.split_fresh_chunk(None)?, 0),
            }
        } else {
            let chunk_align = align_order - CHUNK_SHIFT;
            match self.split_fresh_chunk(Some(chunk_align)) {
                Some(slot) => (slot, 0),
                None => (self.find_split_chunk_start(order, chunk_align)?, 0),
            }
        };
        self.words[slot] &= !run_mask(start, order);
        self.update_runs(slot);
        if self.spare == Some(slot) {
            self.spare = None;
        }
        Some(((self.origin_chunk + slot as u64) << CHUNK_SHIFT) + u64::from(start))
    }

    /// The lowest split chunk (and page in it) with a free run of `2^order` aligned to
    /// `2^align_order`, both at most 32 pages. When `align_order == order` the run bitmap
    /// answers directly; otherwise chunks with a size-aligned run are examined in turn.
    fn find_in_split_chunks(&self, order: u32, align_order: u32) -> Option<(usize, u32)> {
        let runs = &self.runs[order as usize];
        let mut from = 0;
        loop {
            let slot = runs.next_from(from)?;
            let starts = aligned_run_starts(self.words[slot], order, align_order);
            if starts != 0 {
                return Some((slot, starts.trailing_zeros()));
            }
            from = slot + 1;
        }
    }

    /// The lowest split chunk whose absolute number is a multiple of `2^chunk_align` and whose
    /// first `2^order` pages are free.
    fn find_split_chunk_start(&self, order: u32, chunk_align: u32) -> Option<usize> {
        let runs = &self.runs[order as usize];
        let wanted = run_mask(0, order);
        let mut from = 0;
        loop {
            let slot = runs.next_aligned_from(self.origin_chunk, chunk_align, from)?;
            if self.words[slot] & wanted == wanted {
                return Some(slot);
            }
            from = slot + 1;
        }
    }

    /// Takes one chunk from the buddy (aligned to `2^chunk_align` chunks if asked) and makes
    /// it a split chunk with every page free; returns its slot.
    fn split_fresh_chunk(&mut self, chunk_align: Option<u32>) -> Option<usize> {
        let chunk = match chunk_align {
            None | Some(0) => self.buddy.allocate(0)?,
            Some(align) => self.buddy.allocate_aligned(0, align)?,
        };
        let slot = (chunk - self.origin_chunk) as usize;
        self.words[slot] = ALL_FREE;
        Some(slot)
    }

    /// A block of `2^order` chunks aligned to `2^align_order` chunks from the buddy.
    pub(super) fn allocate_chunks(&mut self, order: u32, align_order: u32) -> Option<u64> {
        if align_order == order {
            self.buddy.allocate(order)
        } else {
            self.buddy.allocate_aligned(order, align_order)
        }
    }

    /// Hands the entirely free split chunk `slot` back to the buddy.
    pub(super) fn return_chunk(&mut self, slot: usize) {
        self.words[slot] = 0;
        for runs in &mut self.runs {
            runs.clear(slot);
        }
        self.buddy.release(self.origin_chunk + slot as u64, 0);
    }

    /// Recomputes the run bits of chunk `slot` from its word.
    pub(super) fn update_runs(&mut self, slot: usize) {
        let word = self.words[slot];
        for (order, runs) in self.runs.iter_mut().enumerate() {
            runs.assign(slot, has_run(word, order as u32));
        }
    }
}
