//! Choosing a base for dynamic pools, and checking a finished layout for overlaps.
//!
//! Both are pure functions over `(base, size)` ranges, so the kernel can run them at early
//! boot with fixed arrays and the host can test them.
//!
//! Placement rule (deterministic, the one Linux's memblock uses for reserved memory): the
//! highest aligned base such that the pool lies inside one RAM range, inside one allowed
//! range (if any are given), ends at or below the limit, and overlaps nothing already taken.
//! Taking memory from the top keeps low memory, which some devices need, free for longer.
//! A pool never spans two adjacent RAM ranges; merge them first if that matters.

use crate::pool::{Placement, PoolDeclaration};

/// The exclusive end of a `(base, size)` range, saturating at `u64::MAX`.
fn end_of((base, size): (u64, u64)) -> u64 {
    base.saturating_add(size)
}

fn overlaps(first: (u64, u64), second: (u64, u64)) -> bool {
    first.0 < end_of(second) && second.0 < end_of(first) && first.1 > 0 && second.1 > 0
}

fn contains(outer: (u64, u64), inner: (u64, u64)) -> bool {
    outer.0 <= inner.0 && end_of(inner) <= end_of(outer)
}

/// Chooses the base of a dynamic pool of `size` bytes aligned to `align` (a power of two).
///
/// `limit`, if given, is the exclusive upper bound of the pool's end; `alloc_ranges`, if not
/// empty, are the ranges the pool must fit in; `ram` lists usable RAM and `taken` what is
/// already used, all as `(base, size)`. Returns `None` if nothing fits or `align` is not a
/// power of two or `size` is zero.
pub fn place_dynamic(
    size: u64,
    align: u64,
    limit: Option<u64>,
    alloc_ranges: &[(u64, u64)],
    ram: &[(u64, u64)],
    taken: &[(u64, u64)],
) -> Option<u64> {
    if size == 0 || !align.is_power_of_two() {
        return None;
    }
    let limit = limit.unwrap_or(u64::MAX);
    let whole_space = [(0, u64::MAX)];
    let allowed = if alloc_ranges.is_empty() {
        &whole_space[..]
    } else {
        alloc_ranges
    };
    let fits = |base: u64| {
        let pool = (base, size);
        base.checked_add(size).is_some_and(|end| end <= limit)
            && ram.iter().any(|range| contains(*range, pool))
            && allowed.iter().any(|range| contains(*range, pool))
            && !taken.iter().any(|range| overlaps(*range, pool))
    };
    // The best base ends just below some upper boundary of free space: a RAM end, an allowed
    // range's end, the limit, or the start of something taken.
    let boundaries = ram
        .iter()
        .map(|range| end_of(*range))
        .chain(allowed.iter().map(|range| end_of(*range)))
        .chain(taken.iter().map(|range| range.0))
        .chain(core::iter::once(limit));
    boundaries
        .filter_map(|end| end.checked_sub(size))
        .map(|base| base & !(align - 1))
        .filter(|base| fits(*base))
        .max()
}

/// Places a dynamic pool by [`place_dynamic`], honouring its alignment, its limit lowered so
/// device addresses do not wrap ([`PoolDeclaration::address_limit`]) and its `alloc-ranges`.
/// A static pool returns its own base.
pub fn place_pool(
    pool: &PoolDeclaration<'_>,
    ram: &[(u64, u64)],
    taken: &[(u64, u64)],
) -> Option<u64> {
    match pool.placement {
        Placement::Static { base, .. } => Some(base),
        Placement::Dynamic {
            size,
            align,
            alloc_ranges,
            ..
        } => {
            let mut ranges = [(0, 0); crate::pool::MAX_ALLOC_RANGES];
            let mut count = 0;
            for range in alloc_ranges.into_iter().flatten() {
                ranges[count] = range;
                count += 1;
            }
            place_dynamic(
                size,
                align,
                pool.address_limit(),
                &ranges[..count],
                ram,
                taken,
            )
        }
    }
}

/// Something wrong with a layout of placed pools, by index into the pools given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutProblem {
    /// Pools `first` and `second` (`first < second`) share memory.
    Overlap {
        /// Index of the earlier pool.
        first: usize,
        /// Index of the later pool.
        second: usize,
    },
    /// Pool `pool` does not lie inside a single RAM range. (A `no-map` pool of device memory
    /// may legitimately sit outside RAM; the caller decides.)
    OutsideRam {
        /// Index of the pool.
        pool: usize,
    },
    /// Pool `pool` has size zero or wraps past 2^64.
    Empty {
        /// Index of the pool.
        pool: usize,
    },
}

/// Every problem with placed `pools` (as `(base, size)`) against `ram`: each malformed pool,
/// each pool outside RAM, then each overlapping pair, in index order.
pub fn check_overlaps<'p>(
    pools: &'p [(u64, u64)],
    ram: &'p [(u64, u64)],
) -> impl Iterator<Item = LayoutProblem> + 'p {
    let malformed = |range: &(u64, u64)| range.1 == 0 || range.0.checked_add(range.1).is_none();
    let single = pools.iter().enumerate().filter_map(move |(index, pool)| {
        if malformed(pool) {
            Some(LayoutProblem::Empty { pool: index })
        } else if !ram.iter().any(|range| contains(*range, *pool)) {
            Some(LayoutProblem::OutsideRam { pool: index })
        } else {
            None
        }
    });
    let pairs = pools
        .iter()
        .enumerate()
        .flat_map(move |(first, first_range)| {
            pools
                .iter()
                .enumerate()
                .skip(first + 1)
                .filter(move |(_, second_range)| overlaps(*first_range, **second_range))
                .map(move |(second, _)| LayoutProblem::Overlap { first, second })
        });
    single.chain(pairs)
}
