//! The chunk buddy: power-of-two groups of 64-page chunks, one free bitmap per order.
//!
//! Blocks are aligned in the absolute chunk numbering of the device address space, so a
//! block of `2^order` chunks starts at a device address aligned to its size. Level `order`
//! holds one bit per aligned block that overlaps the pool's interior chunks; a bit is set
//! when that block is free and is not part of a larger free block (free blocks are always
//! fully coalesced with their buddies). Level `order` has about `chunks / 2^order` bits, so
//! all levels together hold fewer than two bits per chunk.

use alloc::vec::Vec;
use core::ops::Range;

use crate::summary::SummaryBitmap;

/// Free chunk blocks of every order over one contiguous range of interior chunks.
#[derive(Clone, Debug)]
pub(crate) struct ChunkBuddy {
    /// The absolute chunk numbers the buddy manages.
    interior: Range<u64>,
    /// One free bitmap per order; bit `i` of level `order` is block
    /// `(interior.start >> order) + i`.
    levels: Vec<SummaryBitmap>,
}

impl ChunkBuddy {
    /// Builds a buddy over the absolute chunks `interior`, all free, split greedily into the
    /// largest aligned blocks that fit.
    pub(crate) fn new(interior: Range<u64>) -> Self {
        let blocks = greedy_blocks(interior.clone());
        let level_count = blocks
            .iter()
            .map(|&(_, order)| order + 1)
            .max()
            .unwrap_or(0);
        let mut levels = Vec::with_capacity(level_count as usize);
        for order in 0..level_count {
            let first = interior.start >> order;
            let last = (interior.end - 1) >> order;
            levels.push(SummaryBitmap::new((last - first + 1) as usize));
        }
        let mut buddy = ChunkBuddy { interior, levels };
        for (block, order) in blocks {
            let index = buddy
                .index(order, block)
                .expect("greedy block inside the interior");
            buddy.levels[order as usize].set(index);
        }
        buddy
    }

    /// How many orders exist (0 when the pool has no whole chunk).
    pub(crate) fn level_count(&self) -> u32 {
        self.levels.len() as u32
    }

    /// Bytes of memory all levels occupy.
    pub(crate) fn metadata_bytes(&self) -> usize {
        self.levels.iter().map(SummaryBitmap::metadata_bytes).sum()
    }

    /// The highest order with a free block, if any block is free.
    pub(crate) fn largest_free_order(&self) -> Option<u32> {
        (0..self.level_count())
            .rev()
            .find(|&order| !self.levels[order as usize].is_empty())
    }

    /// Takes the lowest free block of the smallest order at least `order`, splits it down to
    /// `order` and returns the absolute number of its first chunk.
    pub(crate) fn allocate(&mut self, order: u32) -> Option<u64> {
        let found =
            (order..self.level_count()).find(|&level| !self.levels[level as usize].is_empty())?;
        let index = self.levels[found as usize].first()?;
        Some(self.take(found, index, order))
    }

    /// Takes a block of `2^order` chunks whose first chunk number is a multiple of
    /// `2^align_order` (`align_order > order`). Blocks of order `align_order` or more are
    /// aligned already and are found in O(log n); otherwise smaller free blocks at aligned
    /// positions are searched, skipping unaligned ones.
    pub(crate) fn allocate_aligned(&mut self, order: u32, align_order: u32) -> Option<u64> {
        if let Some(found) =
            (align_order..self.level_count()).find(|&level| !self.levels[level as usize].is_empty())
        {
            let index = self.levels[found as usize].first()?;
            return Some(self.take(found, index, order));
        }
        for level in order..align_order.min(self.level_count()) {
            let base = self.interior.start >> level;
            let shift = align_order - level;
            if let Some(index) = self.levels[level as usize].next_aligned_from(base, shift, 0) {
                return Some(self.take(level, index, order));
            }
        }
        None
    }

    /// Returns the block of `2^order` chunks starting at absolute chunk `chunk`, merging it
    /// with free buddies as far as they go.
    pub(crate) fn release(&mut self, chunk: u64, order: u32) {
        let mut block = chunk >> order;
        let mut level = order;
        while level + 1 < self.level_count() {
            match self.index(level, block ^ 1) {
                Some(buddy) if self.levels[level as usize].test(buddy) => {
                    self.levels[level as usize].clear(buddy);
                    block >>= 1;
                    level += 1;
                }
                _ => break,
            }
        }
        let index = self
            .index(level, block)
            .expect("released block inside the interior");
        debug_assert!(
            !self.levels[level as usize].test(index),
            "chunk block released twice"
        );
        self.levels[level as usize].set(index);
    }

    /// The order of the block chunk `chunk` (not free in the buddy) would form if it were
    /// released now, merging with its free buddies; read-only.
    pub(crate) fn merged_order(&self, chunk: u64) -> u32 {
        let mut block = chunk;
        let mut level = 0;
        while level + 1 < self.level_count()
            && self
                .index(level, block ^ 1)
                .is_some_and(|buddy| self.levels[level as usize].test(buddy))
        {
            block >>= 1;
            level += 1;
        }
        level
    }

    /// The order of the free block covering absolute chunk `chunk`, if it is free.
    pub(crate) fn covering_order(&self, chunk: u64) -> Option<u32> {
        if !self.interior.contains(&chunk) {
            return None;
        }
        (0..self.level_count()).find(|&order| {
            self.index(order, chunk >> order)
                .is_some_and(|index| self.levels[order as usize].test(index))
        })
    }

    /// Checks coalescing, containment and the summaries of every level.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        let top = self.level_count().saturating_sub(1);
        for (order, level) in self.levels.iter().enumerate() {
            level.check()?;
            let order = order as u32;
            for index in level.iter() {
                let block = (self.interior.start >> order) + index as u64;
                let first = block << order;
                if first < self.interior.start || first + (1 << order) > self.interior.end {
                    return Err("free chunk block outside the interior");
                }
                if order < top
                    && self
                        .index(order, block ^ 1)
                        .is_some_and(|buddy| level.test(buddy))
                {
                    return Err("two free buddies left unmerged");
                }
                for higher in order + 1..self.level_count() {
                    if self
                        .index(higher, block >> (higher - order))
                        .is_some_and(|i| self.levels[higher as usize].test(i))
                    {
                        return Err("free chunk blocks overlap");
                    }
                }
            }
        }
        Ok(())
    }

    /// Clears the free bit of block `index` at `level`, splits it down to `order` keeping the
    /// lowest part, and returns that part's first absolute chunk.
    fn take(&mut self, level: u32, index: usize, order: u32) -> u64 {
        self.levels[level as usize].clear(index);
        let mut block = (self.interior.start >> level) + index as u64;
        let mut current = level;
        while current > order {
            current -= 1;
            block <<= 1;
            let upper = self
                .index(current, block + 1)
                .expect("split half inside the interior");
            self.levels[current as usize].set(upper);
        }
        block << order
    }

    /// The bit index of absolute block `block` at `order`, if that level has such a bit.
    fn index(&self, order: u32, block: u64) -> Option<usize> {
        let offset = block.checked_sub(self.interior.start >> order)?;
        let index = usize::try_from(offset).ok()?;
        (index < self.levels.get(order as usize)?.len()).then_some(index)
    }
}

/// Splits `range` into the largest aligned power-of-two blocks, lowest first.
fn greedy_blocks(range: Range<u64>) -> Vec<(u64, u32)> {
    let mut blocks = Vec::new();
    let mut chunk = range.start;
    while chunk < range.end {
        let mut order = if chunk == 0 {
            63
        } else {
            chunk.trailing_zeros().min(63)
        };
        while order > 0 && (range.end - chunk) < (1u64 << order) {
            order -= 1;
        }
        blocks.push((chunk >> order, order));
        chunk += 1 << order;
    }
    blocks
}
