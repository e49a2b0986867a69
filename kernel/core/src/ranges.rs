//! Range arithmetic: fixed-capacity sets of address ranges and the check for user ranges.
//!
//! [`RangeSet`] computes things like "usable RAM = memory-map RAM minus the kernel image,
//! initrd, device tree, reserved regions and DMA pools, in whole pages" without allocating.
//! [`user_range_ok`] is the arithmetic the kernel applies to every pointer from user space.

use core::ops::Range;

#[cfg(test)]
mod tests;

/// Why a [`RangeSet`] refused a change. A refused change leaves the set as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RangeSetError {
    /// The result would need more ranges than the set can hold.
    Full,
    /// `base + size` does not fit in a `u64`.
    Overflow,
}

/// One half-open range `[start, end)`, never empty inside a set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
struct Span {
    start: u64,
    end: u64,
}

/// A set of at most `N` disjoint half-open `u64` ranges, kept sorted, without allocation.
///
/// Invariant: the first `len` spans are non-empty, sorted, and separated by gaps (touching
/// ranges are merged); the slots after them are zero. Every range ends at or below
/// `u64::MAX`, so the very last byte of the address space cannot be a member.
#[derive(Clone, Copy, Debug)]
pub struct RangeSet<const N: usize> {
    spans: [Span; N],
    len: usize,
}

impl<const N: usize> Default for RangeSet<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> PartialEq for RangeSet<N> {
    fn eq(&self, other: &Self) -> bool {
        self.spans() == other.spans()
    }
}

impl<const N: usize> Eq for RangeSet<N> {}

/// `[base, base + size)`, or `None` when the end overflows.
const fn span_of(base: u64, size: u64) -> Option<Span> {
    match base.checked_add(size) {
        Some(end) => Some(Span { start: base, end }),
        None => None,
    }
}

impl<const N: usize> RangeSet<N> {
    /// An empty set.
    pub const fn new() -> Self {
        RangeSet {
            spans: [Span { start: 0, end: 0 }; N],
            len: 0,
        }
    }

    /// How many disjoint ranges the set holds.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds no bytes.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Empties the set.
    pub fn clear(&mut self) {
        *self = Self::new();
    }

    fn spans(&self) -> &[Span] {
        &self.spans[..self.len]
    }

    /// The ranges in ascending order; touching ranges have been merged.
    pub fn iter(&self) -> impl Iterator<Item = Range<u64>> + '_ {
        self.spans().iter().map(|span| span.start..span.end)
    }

    /// The number of bytes in the set.
    pub fn total(&self) -> u64 {
        self.spans().iter().map(|span| span.end - span.start).sum()
    }

    /// Replaces spans `first..last` with `pieces`, or refuses without change when the result
    /// would not fit.
    fn splice(&mut self, first: usize, last: usize, pieces: &[Span]) -> Result<(), RangeSetError> {
        let new_len = self.len - (last - first) + pieces.len();
        if new_len > N {
            return Err(RangeSetError::Full);
        }
        self.spans.copy_within(last..self.len, first + pieces.len());
        self.spans[first..first + pieces.len()].copy_from_slice(pieces);
        for slot in new_len..self.len {
            self.spans[slot] = Span::default();
        }
        self.len = new_len;
        Ok(())
    }

    /// Adds `[base, base + size)`, merging it with every range it overlaps or touches.
    ///
    /// An empty range changes nothing. Fails with [`RangeSetError::Overflow`] when the end
    /// does not fit in a `u64`, and with [`RangeSetError::Full`] when it touches no existing
    /// range and the set is full.
    pub fn insert(&mut self, base: u64, size: u64) -> Result<(), RangeSetError> {
        let new = span_of(base, size).ok_or(RangeSetError::Overflow)?;
        if size == 0 {
            return Ok(());
        }
        let first = self.spans().partition_point(|span| span.end < new.start);
        let last = self.spans().partition_point(|span| span.start <= new.end);
        let mut merged = new;
        if first < last {
            merged.start = merged.start.min(self.spans[first].start);
            merged.end = merged.end.max(self.spans[last - 1].end);
        }
        self.splice(first, last, &[merged])
    }

    /// Removes `[base, base + size)`, splitting a range that straddles it.
    ///
    /// An empty range changes nothing. Fails with [`RangeSetError::Overflow`] when the end
    /// does not fit in a `u64`, and with [`RangeSetError::Full`] when splitting would need one
    /// range more than the set holds; either way the set is unchanged.
    pub fn remove(&mut self, base: u64, size: u64) -> Result<(), RangeSetError> {
        let cut = span_of(base, size).ok_or(RangeSetError::Overflow)?;
        if size == 0 {
            return Ok(());
        }
        let first = self.spans().partition_point(|span| span.end <= cut.start);
        let last = self.spans().partition_point(|span| span.start < cut.end);
        if first == last {
            return Ok(());
        }
        let (left, right) = (self.spans[first], self.spans[last - 1]);
        let mut pieces = [Span::default(); 2];
        let mut count = 0;
        if left.start < cut.start {
            pieces[count] = Span {
                start: left.start,
                end: cut.start,
            };
            count += 1;
        }
        if right.end > cut.end {
            pieces[count] = Span {
                start: cut.end,
                end: right.end,
            };
            count += 1;
        }
        self.splice(first, last, &pieces[..count])
    }

    /// Whether every byte of `[base, base + size)` is in the set. An empty range is
    /// contained; one whose end overflows is not.
    pub fn contains_range(&self, base: u64, size: u64) -> bool {
        let Some(query) = span_of(base, size) else {
            return false;
        };
        if size == 0 {
            return true;
        }
        let index = self.spans().partition_point(|span| span.end <= query.start);
        self.spans()
            .get(index)
            .is_some_and(|span| span.start <= query.start && query.end <= span.end)
    }

    /// Whether any byte of `[base, base + size)` is in the set. An empty range overlaps
    /// nothing; one whose end overflows is taken to reach the top of the address space.
    pub fn overlaps(&self, base: u64, size: u64) -> bool {
        let end = base.saturating_add(size);
        let index = self.spans().partition_point(|span| span.end <= base);
        size != 0 && self.spans().get(index).is_some_and(|span| span.start < end)
    }

    /// Shrinks every range to the whole `page`-sized, `page`-aligned blocks inside it,
    /// dropping ranges that hold none. Never needs more room, so it cannot fail.
    ///
    /// # Panics
    ///
    /// If `page` is not a power of two (a caller's broken invariant).
    pub fn align_inward(&mut self, page: u64) {
        assert!(
            page.is_power_of_two(),
            "page size {page:#x} is not a power of two"
        );
        let mut kept = 0;
        for index in 0..self.len {
            let span = self.spans[index];
            let start = span.start.checked_next_multiple_of(page);
            let end = span.end & !(page - 1);
            if let Some(start) = start.filter(|&start| start < end) {
                self.spans[kept] = Span { start, end };
                kept += 1;
            }
        }
        for slot in kept..self.len {
            self.spans[slot] = Span::default();
        }
        self.len = kept;
    }
}

/// Why a user range was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RangeError {
    /// `base + len` does not fit in a `u64`.
    Overflow,
    /// Some byte of the range is at or above the top of user space.
    AboveUserTop,
}

/// `base..base + len`, or `None` when the end does not fit in a `u64`.
pub const fn checked_range(base: u64, len: u64) -> Option<Range<u64>> {
    match base.checked_add(len) {
        Some(end) => Some(base..end),
        None => None,
    }
}

/// Checks that `[base, base + len)` lies wholly below `user_top` and returns it.
///
/// This is the arithmetic applied to every user pointer before any use. Zero length is
/// accepted and touches nothing, but `base` must still be at most `user_top` (as Linux's
/// `access_ok`), so every accepted range lies within `0..=user_top`.
pub const fn user_range_ok(base: u64, len: u64, user_top: u64) -> Result<Range<u64>, RangeError> {
    match base.checked_add(len) {
        None => Err(RangeError::Overflow),
        Some(end) if end > user_top => Err(RangeError::AboveUserTop),
        Some(end) => Ok(base..end),
    }
}
