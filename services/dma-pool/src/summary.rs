//! A bitmap with a 64-ary summary hierarchy: set, clear and find-next in O(log64 n) words.
//!
//! Layer 0 holds the bits themselves. Bit `w` of layer `l + 1` is set exactly when word `w` of
//! layer `l` is non-zero, up to a top layer of a single word. Finding the first set bit at or
//! after a position climbs until a layer shows something to the right, then descends along
//! trailing zeros, so every operation touches at most two words per layer. All layers share
//! one vector allocated when the bitmap is built; nothing allocates afterwards.

use alloc::vec;
use alloc::vec::Vec;

/// How many layers a bitmap of up to 2^36 bits needs (64^6 = 2^36).
const MAX_LAYERS: usize = 7;

/// A fixed-length bitmap, all clear when built, with its summary layers.
#[derive(Clone, Debug)]
pub(crate) struct SummaryBitmap {
    /// How many bits the bitmap holds.
    length: usize,
    /// Every layer's words, layer 0 first.
    words: Vec<u64>,
    /// Where each layer starts in `words`.
    layer_start: [usize; MAX_LAYERS],
    /// How many words each layer has.
    layer_words: [usize; MAX_LAYERS],
    /// How many layers are in use (at least one).
    layers: usize,
}

impl SummaryBitmap {
    /// Builds a bitmap of `length` clear bits.
    ///
    /// # Panics
    ///
    /// Panics if `length` exceeds 2^36 bits, which no pool reaches (pools hold at most 2^32
    /// pages).
    pub(crate) fn new(length: usize) -> Self {
        let mut layer_start = [0; MAX_LAYERS];
        let mut layer_words = [0; MAX_LAYERS];
        let mut layers = 0;
        let mut bits = length.max(1);
        let mut total = 0;
        loop {
            assert!(layers < MAX_LAYERS, "summary bitmap too long");
            let words = bits.div_ceil(64);
            layer_start[layers] = total;
            layer_words[layers] = words;
            total += words;
            layers += 1;
            if words == 1 {
                break;
            }
            bits = words;
        }
        SummaryBitmap {
            length,
            words: vec![0; total],
            layer_start,
            layer_words,
            layers,
        }
    }

    /// How many bits the bitmap holds.
    pub(crate) fn len(&self) -> usize {
        self.length
    }

    /// Bytes of memory the bitmap and its summaries occupy.
    pub(crate) fn metadata_bytes(&self) -> usize {
        self.words.len() * 8
    }

    /// Whether no bit is set: one word read.
    pub(crate) fn is_empty(&self) -> bool {
        self.words[self.layer_start[self.layers - 1]] == 0
    }

    /// Whether bit `index` is set.
    pub(crate) fn test(&self, index: usize) -> bool {
        debug_assert!(index < self.length);
        self.words[index / 64] & (1 << (index % 64)) != 0
    }

    /// Sets bit `index`, marking the summaries above it.
    pub(crate) fn set(&mut self, index: usize) {
        debug_assert!(index < self.length);
        let mut position = index;
        for layer in 0..self.layers {
            let word = &mut self.words[self.layer_start[layer] + position / 64];
            let was_empty = *word == 0;
            *word |= 1 << (position % 64);
            if !was_empty {
                return;
            }
            position /= 64;
        }
    }

    /// Clears bit `index`, clearing the summaries above it that become empty.
    pub(crate) fn clear(&mut self, index: usize) {
        debug_assert!(index < self.length);
        let mut position = index;
        for layer in 0..self.layers {
            let word = &mut self.words[self.layer_start[layer] + position / 64];
            *word &= !(1 << (position % 64));
            if *word != 0 {
                return;
            }
            position /= 64;
        }
    }

    /// Sets or clears bit `index`, touching the summaries only when the bit changes.
    pub(crate) fn assign(&mut self, index: usize, value: bool) {
        if self.test(index) != value {
            if value {
                self.set(index);
            } else {
                self.clear(index);
            }
        }
    }

    /// The lowest set bit, if any.
    pub(crate) fn first(&self) -> Option<usize> {
        self.next_from(0)
    }

    /// The lowest set bit at or after `from`, if any.
    pub(crate) fn next_from(&self, from: usize) -> Option<usize> {
        if from >= self.length {
            return None;
        }
        let mut layer = 0;
        let mut position = from;
        // Climb until a word holds a set bit at or after `position`.
        loop {
            let word_index = position / 64;
            if word_index >= self.layer_words[layer] {
                return None;
            }
            let word =
                self.words[self.layer_start[layer] + word_index] & (!0u64 << (position % 64));
            if word != 0 {
                position = word_index * 64 + word.trailing_zeros() as usize;
                break;
            }
            layer += 1;
            if layer == self.layers {
                return None;
            }
            position = word_index + 1;
        }
        // Descend along the lowest set bits.
        while layer > 0 {
            layer -= 1;
            let word = self.words[self.layer_start[layer] + position];
            debug_assert!(word != 0, "summary bit set over an empty word");
            position = position * 64 + word.trailing_zeros() as usize;
        }
        Some(position)
    }

    /// The lowest set bit at or after `from` whose absolute number `base + bit` is a multiple
    /// of `2^shift`. Set bits at other positions are skipped one at a time, so this costs
    /// O(log64 n) per skipped bit rather than per call.
    pub(crate) fn next_aligned_from(&self, base: u64, shift: u32, from: usize) -> Option<usize> {
        let mut from = from;
        loop {
            let aligned = align_up(base.checked_add(from as u64)?, shift)?;
            let candidate = usize::try_from(aligned - base).ok()?;
            let found = self.next_from(candidate)?;
            if is_aligned(base + found as u64, shift) {
                return Some(found);
            }
            from = found + 1;
        }
    }

    /// Every set bit in ascending order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        let mut from = 0;
        core::iter::from_fn(move || {
            let found = self.next_from(from)?;
            from = found + 1;
            Some(found)
        })
    }

    /// Checks that every summary bit agrees with the layer below it.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        for layer in 0..self.layers - 1 {
            for word_index in 0..self.layer_words[layer] {
                let nonzero = self.words[self.layer_start[layer] + word_index] != 0;
                let summary = self.words[self.layer_start[layer + 1] + word_index / 64]
                    & (1 << (word_index % 64))
                    != 0;
                if nonzero != summary {
                    return Err("summary bit disagrees with the word below it");
                }
            }
        }
        let last = self.words[self.layer_words[0] - 1];
        let used = self.length - (self.layer_words[0] - 1) * 64;
        if used < 64 && last >> used != 0 {
            return Err("bit set past the end of the bitmap");
        }
        Ok(())
    }
}

/// Whether `value` is a multiple of `2^shift` (any shift, including 64 and beyond).
pub(crate) fn is_aligned(value: u64, shift: u32) -> bool {
    if shift >= 64 {
        value == 0
    } else {
        value & ((1u64 << shift) - 1) == 0
    }
}

/// The smallest multiple of `2^shift` at or above `value`, if it fits in a `u64`.
pub(crate) fn align_up(value: u64, shift: u32) -> Option<u64> {
    if shift >= 64 {
        return (value == 0).then_some(0);
    }
    let mask = (1u64 << shift) - 1;
    Some(value.checked_add(mask)? & !mask)
}

#[cfg(test)]
mod tests {
    use super::SummaryBitmap;
    use alloc::vec::Vec;

    #[test]
    fn finds_bits_across_layers() {
        let mut bitmap = SummaryBitmap::new(300_000);
        assert!(bitmap.is_empty());
        assert_eq!(bitmap.first(), None);
        for index in [5, 4095, 4096, 262_143, 299_999] {
            bitmap.set(index);
        }
        bitmap.check().unwrap();
        let found: Vec<usize> = bitmap.iter().collect();
        assert_eq!(found, [5, 4095, 4096, 262_143, 299_999]);
        assert_eq!(bitmap.next_from(4097), Some(262_143));
        bitmap.clear(262_143);
        assert_eq!(bitmap.next_from(4097), Some(299_999));
        bitmap.check().unwrap();
        for index in [5, 4095, 4096, 299_999] {
            bitmap.clear(index);
        }
        assert!(bitmap.is_empty());
        bitmap.check().unwrap();
    }

    #[test]
    fn single_word_bitmap() {
        let mut bitmap = SummaryBitmap::new(3);
        bitmap.set(2);
        assert_eq!(bitmap.first(), Some(2));
        assert_eq!(bitmap.next_from(3), None);
        bitmap.assign(2, false);
        assert!(bitmap.is_empty());
    }
}
