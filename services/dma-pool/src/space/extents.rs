//! Walking the free pages of a pool as maximal contiguous extents, and checking invariants.
//!
//! Both walks are for statistics and tests, not for the allocation path: they visit every
//! chunk slot (skipping whole free buddy blocks at once), so they cost O(chunks × orders).

use super::words::{has_run, ALL_FREE, CHUNK_PAGES, CHUNK_SHIFT};
use super::FreeSpace;

impl FreeSpace {
    /// Calls `emit(first_page, pages)` for every maximal run of free pages, lowest first,
    /// hot blocks included.
    pub(crate) fn for_each_free_extent(&self, mut emit: impl FnMut(u64, u64)) {
        let mut run: Option<(u64, u64)> = None;
        let mut extend = |start: u64, length: u64| match &mut run {
            Some((run_start, run_length)) if *run_start + *run_length == start => {
                *run_length += length
            }
            _ => {
                if let Some((run_start, run_length)) = run.replace((start, length)) {
                    emit(run_start, run_length);
                }
            }
        };
        let mut slot = 0;
        while slot < self.words.len() {
            let chunk = self.origin_chunk + slot as u64;
            if let Some(order) = self.buddy.covering_order(chunk) {
                // Covered chunks are interior, so they start at or after the first frame.
                let block_end = ((chunk >> order) + 1) << order;
                let chunks = block_end - chunk;
                extend(
                    (chunk << CHUNK_SHIFT) - self.first_frame,
                    chunks * CHUNK_PAGES,
                );
                slot += chunks as usize;
                continue;
            }
            let word = self.words[slot] | self.hot_mask(chunk);
            let mut bit = 0u32;
            while bit < 64 && word >> bit != 0 {
                bit += (word >> bit).trailing_zeros();
                let ones = (word >> bit).trailing_ones();
                let frame = (chunk << CHUNK_SHIFT) + u64::from(bit);
                extend(frame - self.first_frame, u64::from(ones));
                bit += ones;
            }
            slot += 1;
        }
        if let Some((start, length)) = run {
            emit(start, length);
        }
    }

    /// The longest run of contiguous free pages.
    pub(crate) fn largest_free_run(&self) -> u64 {
        let mut largest = 0;
        self.for_each_free_extent(|_, length| largest = largest.max(length));
        largest
    }

    /// Checks every structural invariant; returns the first one broken.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        self.buddy.check()?;
        self.check_hot()?;
        for runs in &self.runs {
            runs.check()?;
        }
        for (slot, &word) in self.words.iter().enumerate() {
            let chunk = self.origin_chunk + slot as u64;
            if self.buddy.covering_order(chunk).is_some() {
                if word != 0 || self.runs.iter().any(|runs| runs.test(slot)) {
                    return Err("a free buddy chunk also has page bits");
                }
                continue;
            }
            if word == ALL_FREE && self.spare != Some(slot) {
                return Err("an entirely free chunk is neither the spare nor in the buddy");
            }
            if self.spare == Some(slot) && word != ALL_FREE {
                return Err("the spare chunk is not entirely free");
            }
            if word & !self.in_pool_mask(chunk) != 0 {
                return Err("a page outside the pool is marked free");
            }
            for (order, runs) in self.runs.iter().enumerate() {
                if runs.test(slot) != has_run(word, order as u32) {
                    return Err("a run bit disagrees with its chunk word");
                }
            }
        }
        let mut counted = 0;
        let mut previous_end = None;
        let mut ordered = true;
        self.for_each_free_extent(|start, length| {
            counted += length;
            if previous_end.is_some_and(|end| start <= end) || start + length > self.pages {
                ordered = false;
            }
            previous_end = Some(start + length);
        });
        if !ordered {
            return Err("free extents overlap, touch or leave the pool");
        }
        if counted != self.free_pages() {
            return Err("the free-page count disagrees with the free extents");
        }
        Ok(())
    }
}
