//! Bit tricks on one chunk's 64-page free word: aligned free runs of 1 to 32 pages.
//!
//! Bit `i` of a chunk word stands for page `i` of a 64-page chunk whose first page is 64-page
//! aligned in the device address space; a set bit means the page is free. Because the chunk is
//! aligned, a run of `2^order` pages aligned to `2^align_order` pages never straddles two words
//! when `align_order <= 5`.

/// The largest page order served inside a chunk word (32 pages).
pub(crate) const SMALL_ORDER_LIMIT: u32 = 5;

/// Pages in a chunk (one word of page bits).
pub(crate) const CHUNK_PAGES: u64 = 64;

/// log2 of [`CHUNK_PAGES`].
pub(crate) const CHUNK_SHIFT: u32 = 6;

/// A word with every page free.
pub(crate) const ALL_FREE: u64 = !0;

/// Bits at positions that are multiples of `2^align_order`, for `align_order` in `0..=6`.
const ALIGNED_POSITIONS: [u64; 7] = [
    !0,
    0x5555_5555_5555_5555,
    0x1111_1111_1111_1111,
    0x0101_0101_0101_0101,
    0x0001_0001_0001_0001,
    0x0000_0001_0000_0001,
    0x0000_0000_0000_0001,
];

/// Bit `i` is set when pages `i .. i + 2^order` of `word` are all free (runs may not wrap).
pub(crate) fn run_starts(word: u64, order: u32) -> u64 {
    let mut runs = word;
    for step in 0..order {
        runs &= runs >> (1u32 << step);
    }
    runs
}

/// Bit `i` is set when an aligned free run of `2^order` pages starts at page `i`, with `i` a
/// multiple of `2^align_order` (`order <= align_order <= 6`).
pub(crate) fn aligned_run_starts(word: u64, order: u32, align_order: u32) -> u64 {
    run_starts(word, order) & ALIGNED_POSITIONS[align_order as usize]
}

/// Whether `word` holds a free run of `2^order` pages aligned to its size.
pub(crate) fn has_run(word: u64, order: u32) -> bool {
    aligned_run_starts(word, order, order) != 0
}

/// The bits of a run of `2^order` pages starting at page `start`.
pub(crate) fn run_mask(start: u32, order: u32) -> u64 {
    let length = 1u32 << order;
    let ones = if length == 64 {
        ALL_FREE
    } else {
        (1u64 << length) - 1
    };
    ones << start
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_respect_alignment_and_word_end() {
        // Pages 3..=9 free: the aligned 4-run at 4 and the 2-runs at 4, 6, 8.
        let word = 0b11_1111_1000;
        assert_eq!(aligned_run_starts(word, 2, 2), 1 << 4);
        assert_eq!(
            aligned_run_starts(word, 1, 1),
            (1 << 4) | (1 << 6) | (1 << 8)
        );
        assert_eq!(aligned_run_starts(word, 1, 2), (1 << 4) | (1 << 8));
        assert!(!has_run(word, 3));
        // The top page alone cannot start a two-page run.
        assert_eq!(run_starts(1 << 63, 1), 0);
        assert!(has_run(ALL_FREE, 5));
        assert_eq!(run_mask(32, 5), 0xFFFF_FFFF_0000_0000);
        assert_eq!(run_mask(0, 6), ALL_FREE);
    }
}
