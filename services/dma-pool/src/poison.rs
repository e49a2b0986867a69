//! Debug mode: freed pages are poisoned, and checked before they are handed out again.
//!
//! Linux's slab debugging fills freed objects with `POISON_FREE` and checks it when they are
//! reused; this is the same idea for DMA pages, where the culprit of a write after free is
//! most often a *device* (a driver that freed a buffer while a transfer into it was still
//! queued). Processes cannot do it here: released pages return to a pool only after the last
//! mapping is gone and the device's IOMMU domain no longer maps them. On a machine without an
//! IOMMU, or should that protection have a bug, the poison is what notices.
//!
//! # Bookkeeping (this crate) and memory (dmad)
//!
//! This crate never touches pool memory, so the work is split:
//!
//! 1. Every path that returns a buffer's pages to the free space (release, last unmap of a
//!    released buffer, `release_all`, lifting a quarantine) goes through one function,
//!    which queues the buffer in the pool's *pending* list (first page, order, owner).
//! 2. dmad drains that list after every request ([`PoolRegistry::drain_freed`]): it fills
//!    each range with [`POISON`] through its mapping, and the pool marks those pages
//!    *poisoned* in a bitmap (one bit per page, allocated only when poisoning is on).
//! 3. An allocation takes its pages, then calls the [`Zeroer`] once per run of the buffer:
//!    [`Zeroer::check_and_zero`] for runs of poisoned pages (dmad compares every 64-bit word
//!    with [`POISON`], reports the first that differs, and zeroes the run either way), plain
//!    [`Zeroer::zero`] for pages never poisoned (never freed since the pool was declared, or
//!    freed while the pending list was full). Their poisoned bits are cleared.
//!
//! So only what was poisoned is checked: there are no false reports from pages dmad never
//! wrote, and a pool that only ever allocates pays nothing. An allocation that takes pages
//! still pending (possible only within one request, before dmad drained) drops them from the
//! list: they are zeroed, never poisoned under a live buffer.
//!
//! The pending list is fixed ([`PENDING_CAPACITY`] entries, nothing allocates on any path):
//! a burst of frees larger than that between two drains (a big `release_all`) leaves the
//! excess unpoisoned, counted in [`PoisonStats::skipped_pages`] — a missed check, never a
//! false one.
//!
//! # Decision: a mismatch still yields a clean buffer
//!
//! dmad reports the mismatch (pool, device, range, first differing offset, last owner) and
//! hands out the buffer zeroed anyway: the late write already happened and is over (the
//! device that made it no longer reaches the pages through any mapping dmad made), so
//! quarantining the pages would protect nothing and shrink the pool on every report.
//!
//! [`PoolRegistry::drain_freed`]: crate::PoolRegistry::drain_freed
//! [`Zeroer`]: crate::Zeroer
//! [`Zeroer::check_and_zero`]: crate::Zeroer::check_and_zero
//! [`Zeroer::zero`]: crate::Zeroer::zero

use alloc::vec;
use alloc::vec::Vec;

use crate::{OwnerId, PoolId};

/// The 64-bit word every freed page is filled with: "F4EE DEAD" twice ("free, dead"). Not a
/// value devices write by accident (no all-zero or all-one bytes, not byte-repeated), and
/// easy to spot in a memory dump.
pub const POISON: u64 = 0xF4EE_DEAD_F4EE_DEAD;

/// Freed buffers a pool queues for poisoning between two drains.
pub const PENDING_CAPACITY: usize = 64;

/// The index of the first word of `words` that is not [`POISON`], if any: what dmad's check
/// does over its mapping. Word-wide and branch-free over blocks of eight words (one cache
/// line), which the compiler turns into wide compares; only a block that differs is
/// searched word by word.
pub fn first_unpoisoned(words: &[u64]) -> Option<usize> {
    const BLOCK: usize = 8;
    let blocks = words.chunks_exact(BLOCK);
    let tail = blocks.remainder();
    for (index, block) in blocks.enumerate() {
        let differs = block.iter().fold(0, |bits, &word| bits | (word ^ POISON));
        if differs != 0 {
            let within = block.iter().position(|&word| word != POISON);
            return within.map(|word| index * BLOCK + word);
        }
    }
    let start = words.len() - tail.len();
    tail.iter()
        .position(|&word| word != POISON)
        .map(|word| start + word)
}

/// Checks and zeroes `words` in one pass: returns the index and value of the first word
/// that was not [`POISON`], if any, and leaves every word zero. One read and one write per
/// word, by blocks of eight (a cache line), instead of a checking pass and a zeroing pass.
pub fn check_and_zero_words(words: &mut [u64]) -> Option<(usize, u64)> {
    const BLOCK: usize = 8;
    let len = words.len();
    let mut first = None;
    let mut blocks = words.chunks_exact_mut(BLOCK);
    for (index, block) in blocks.by_ref().enumerate() {
        let differs = block.iter().fold(0, |bits, &word| bits | (word ^ POISON));
        if differs != 0 && first.is_none() {
            first = block
                .iter()
                .position(|&word| word != POISON)
                .map(|word| (index * BLOCK + word, block[word]));
        }
        block.fill(0);
    }
    let tail = blocks.into_remainder();
    let start = len - tail.len();
    if first.is_none() {
        first = tail
            .iter()
            .position(|&word| word != POISON)
            .map(|word| (start + word, tail[word]));
    }
    tail.fill(0);
    first
}

/// A freed buffer's pages to poison, as [`PoolRegistry::drain_freed`] hands them to dmad.
///
/// [`PoolRegistry::drain_freed`]: crate::PoolRegistry::drain_freed
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreedRange {
    /// The pool they belong to.
    pub pool: PoolId,
    /// Physical address of the first byte.
    pub phys: u64,
    /// The device's address of the first byte.
    pub device_address: u64,
    /// Length in bytes.
    pub len: u64,
    /// Who held the buffer last.
    pub owner: OwnerId,
}

/// A pool's poisoning figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoisonStats {
    /// Free pages holding poison now (checked when next allocated).
    pub poisoned_pages: u64,
    /// Freed pages waiting for dmad to poison them.
    pub pending_pages: u64,
    /// Freed pages never poisoned because the pending list was full.
    pub skipped_pages: u64,
    /// Poisoned pages checked by allocations so far.
    pub checked_pages: u64,
}

/// One freed buffer waiting to be poisoned.
#[derive(Clone, Copy, Debug)]
struct Pending {
    first_page: u64,
    order: u32,
    owner: OwnerId,
}

/// A pool's poisoning state: the pending list and the poisoned-page bitmap.
#[derive(Clone, Debug)]
pub(crate) struct Poisoning {
    /// One bit per page: poisoned and not allocated since.
    poisoned: Vec<u64>,
    pending: [Pending; PENDING_CAPACITY],
    pending_len: usize,
    stats: PoisonStats,
}

impl Poisoning {
    /// State for a pool of `pages` pages, none poisoned.
    pub(crate) fn new(pages: u64) -> Self {
        Poisoning {
            poisoned: vec![0; pages.div_ceil(64) as usize],
            pending: [Pending {
                first_page: 0,
                order: 0,
                owner: OwnerId(0),
            }; PENDING_CAPACITY],
            pending_len: 0,
            stats: PoisonStats::default(),
        }
    }

    /// The figures now.
    pub(crate) fn stats(&self) -> PoisonStats {
        self.stats
    }

    /// Queues a freed buffer (pages `[first_page, first_page + 2^order)`) for poisoning.
    pub(crate) fn freed(&mut self, first_page: u64, order: u32, owner: OwnerId) {
        let pages = 1u64 << order;
        if self.pending_len == PENDING_CAPACITY {
            self.stats.skipped_pages += pages;
            return;
        }
        self.pending[self.pending_len] = Pending {
            first_page,
            order,
            owner,
        };
        self.pending_len += 1;
        self.stats.pending_pages += pages;
    }

    /// Hands every pending buffer to `poison` as (first page, order, owner), marks its pages
    /// poisoned, and empties the list.
    pub(crate) fn drain(&mut self, mut poison: impl FnMut(u64, u32, OwnerId)) {
        for index in 0..self.pending_len {
            let Pending {
                first_page,
                order,
                owner,
            } = self.pending[index];
            poison(first_page, order, owner);
            let pages = 1u64 << order;
            self.stats.pending_pages -= pages;
            for page in first_page..first_page + pages {
                self.set(page);
            }
        }
        self.pending_len = 0;
    }

    /// Takes pages `[first_page, first_page + pages)` for a new buffer: drops pending
    /// buffers among them (they are zeroed, never poisoned under the new owner) and calls
    /// `run(first, count, poisoned)` for each maximal run of pages alike, in order, clearing
    /// their poisoned bits.
    pub(crate) fn take(
        &mut self,
        first_page: u64,
        pages: u64,
        mut run: impl FnMut(u64, u64, bool),
    ) {
        self.drop_pending_in(first_page, pages);
        let end = first_page + pages;
        let mut start = first_page;
        while start < end {
            let poisoned = self.is_set(start);
            let mut next = start + 1;
            while next < end && self.is_set(next) == poisoned {
                next += 1;
            }
            if poisoned {
                for page in start..next {
                    self.clear(page);
                }
                self.stats.checked_pages += next - start;
            }
            run(start, next - start, poisoned);
            start = next;
        }
    }

    /// Removes pending buffers inside `[first_page, first_page + pages)` (a buffer is
    /// size-aligned, so a pending one either lies inside it, holds it, or misses it).
    fn drop_pending_in(&mut self, first_page: u64, pages: u64) {
        let mut index = 0;
        while index < self.pending_len {
            let pending = self.pending[index];
            let pending_pages = 1u64 << pending.order;
            let overlaps = pending.first_page < first_page + pages
                && first_page < pending.first_page + pending_pages;
            if overlaps {
                self.stats.pending_pages -= pending_pages;
                self.pending_len -= 1;
                self.pending[index] = self.pending[self.pending_len];
            } else {
                index += 1;
            }
        }
    }

    fn is_set(&self, page: u64) -> bool {
        self.poisoned[(page / 64) as usize] & (1 << (page % 64)) != 0
    }

    fn set(&mut self, page: u64) {
        let word = &mut self.poisoned[(page / 64) as usize];
        let bit = 1 << (page % 64);
        if *word & bit == 0 {
            *word |= bit;
            self.stats.poisoned_pages += 1;
        }
    }

    fn clear(&mut self, page: u64) {
        let word = &mut self.poisoned[(page / 64) as usize];
        let bit = 1 << (page % 64);
        if *word & bit != 0 {
            *word &= !bit;
            self.stats.poisoned_pages -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_word_that_is_not_poison() {
        for len in [0usize, 1, 7, 8, 9, 512] {
            let mut words = vec![POISON; len];
            assert_eq!(first_unpoisoned(&words), None, "{len}");
            for at in (0..len).rev() {
                words[at] = POISON ^ 1 << (at % 64);
                assert_eq!(first_unpoisoned(&words), Some(at), "{len} {at}");
                let mut copy = words.clone();
                let found = check_and_zero_words(&mut copy);
                assert_eq!(found, Some((at, words[at])), "{len} {at}");
                assert!(copy.iter().all(|&word| word == 0));
            }
            let mut copy = vec![POISON; len];
            assert_eq!(check_and_zero_words(&mut copy), None);
            assert!(copy.iter().all(|&word| word == 0));
        }
    }
}
