//! The rules of `SYS_DMA_SYNC` (`crate::abi::SYS_DMA_SYNC`): which requests are valid and
//! which cache lines each one touches, as pure arithmetic the host tests.
//!
//! A driver whose buffer is mapped write-back (a pool declared `cache = "wb"`, or its own
//! ordinary memory) on a device that does not snoop the CPU's caches syncs around each
//! transfer, as Linux's `dma_sync_single_for_device` / `_for_cpu` do:
//! - [`SyncDirection::ToDevice`] before the device reads: dirty lines are cleaned (written
//!   back) to memory, so the device sees what the CPU wrote;
//! - [`SyncDirection::ForCpu`] after the device wrote: lines are invalidated, so the CPU
//!   reads memory rather than stale cache. A line only partly inside the range is cleaned
//!   and invalidated instead (never just invalidated), so bytes of it outside the range that
//!   the CPU wrote are not lost;
//! - [`SyncDirection::Bidirectional`]: every line cleaned and invalidated.
//!
//! Rules ([`SyncRequest::new`]): the direction is one of the three codes (`EINVAL`
//! otherwise); `address + length` must not overflow (`EINVAL`); the range must lie in the
//! user half (`EFAULT`: nothing of the caller's is there); it may be at most
//! [`MAX_SYNC_LENGTH`] bytes (`EINVAL`), so one call's work under the kernel lock is bounded.
//! A zero length is valid and syncs nothing (the barrier still runs). The kernel then checks
//! every page against the caller's tables (`EFAULT` if one is not mapped for user mode, or,
//! for `ForCpu` and `Bidirectional`, which may change what memory holds, not writable) before
//! it touches a single line, and maintains only pages mapped write-back: write-combining and
//! uncached pages are never in a cache, so for them the call is the barrier alone.

use crate::Error;
use core::ops::Range;

/// The most bytes one sync may cover: one mapping's limit (64 MiB).
pub const MAX_SYNC_LENGTH: u64 = 64 << 20;

/// Which way ownership of the bytes passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncDirection {
    /// The CPU wrote, the device will read: clean (`dma_sync_*_for_device`, `DMA_TO_DEVICE`).
    ToDevice,
    /// The device wrote, the CPU will read: invalidate (`dma_sync_*_for_cpu`,
    /// `DMA_FROM_DEVICE`).
    ForCpu,
    /// Both: clean and invalidate every line (`DMA_BIDIRECTIONAL`).
    Bidirectional,
}

impl SyncDirection {
    /// The code of [`SyncDirection::ToDevice`] in `SYS_DMA_SYNC`'s third argument.
    pub const TO_DEVICE: usize = 1;
    /// The code of [`SyncDirection::ForCpu`].
    pub const FOR_CPU: usize = 2;
    /// The code of [`SyncDirection::Bidirectional`].
    pub const BIDIRECTIONAL: usize = 3;

    /// The direction a code stands for, if any.
    pub const fn from_code(code: usize) -> Option<Self> {
        match code {
            Self::TO_DEVICE => Some(Self::ToDevice),
            Self::FOR_CPU => Some(Self::ForCpu),
            Self::BIDIRECTIONAL => Some(Self::Bidirectional),
            _ => None,
        }
    }

    /// Its code.
    pub const fn code(self) -> usize {
        match self {
            Self::ToDevice => Self::TO_DEVICE,
            Self::ForCpu => Self::FOR_CPU,
            Self::Bidirectional => Self::BIDIRECTIONAL,
        }
    }

    /// Whether the pages must be writable: invalidating may change what memory holds.
    pub const fn needs_write(self) -> bool {
        !matches!(self, Self::ToDevice)
    }
}

/// A checked sync request: a user range and a direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncRequest {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// Which way.
    pub direction: SyncDirection,
}

impl SyncRequest {
    /// Checks `(address, length, direction)` against the rules of the module doc, for a user
    /// half ending at `user_top`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an unknown direction, an overflowing range or one over
    /// [`MAX_SYNC_LENGTH`]; [`Error::BadAddress`] for a range reaching past `user_top`.
    pub fn new(address: u64, length: u64, direction: usize, user_top: u64) -> Result<Self, Error> {
        let direction = SyncDirection::from_code(direction).ok_or(Error::InvalidArgument)?;
        let end = address.checked_add(length).ok_or(Error::InvalidArgument)?;
        if length > MAX_SYNC_LENGTH {
            return Err(Error::InvalidArgument);
        }
        if length > 0 && end > user_top {
            return Err(Error::BadAddress);
        }
        Ok(SyncRequest {
            start: address,
            end,
            direction,
        })
    }

    /// The pages (their first addresses, `page_size` a power of two) the range touches.
    pub fn pages(&self, page_size: u64) -> impl Iterator<Item = u64> {
        let first = self.start & !(page_size - 1);
        let end = self.end;
        (0..)
            .map(move |index| first + index * page_size)
            .take_while(move |page| *page < end)
    }

    /// The part of the range inside page `page`.
    pub fn within(&self, page: u64, page_size: u64) -> Range<u64> {
        self.start.max(page)..self.end.min(page + page_size)
    }
}

/// The cache operations one range needs, line by line: what an arch crate executes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinePlan {
    /// Lines (their first addresses) to clean, then invalidate.
    pub clean_invalidate: [Option<u64>; 2],
    /// Lines `[start, end)`, every `line` bytes, to give the direction's own operation:
    /// clean for `ToDevice`, invalidate for `ForCpu`, clean and invalidate for
    /// `Bidirectional`.
    pub body: Range<u64>,
    /// The line size the plan was made for.
    pub line: u64,
}

impl LinePlan {
    /// The plan for `range` (inside one request) with `line`-byte cache lines (a power of
    /// two). For `ForCpu` the lines only partly inside `range` go to `clean_invalidate`;
    /// every other line is in `body`.
    pub fn new(range: Range<u64>, direction: SyncDirection, line: u64) -> Self {
        let mask = !(line - 1);
        let mut plan = LinePlan {
            clean_invalidate: [None, None],
            body: 0..0,
            line,
        };
        if range.is_empty() {
            return plan;
        }
        let first = range.start & mask;
        // The line holding the last byte, and one past it.
        let last = (range.end - 1) & mask;
        let mut body = first..last + line;
        if direction == SyncDirection::ForCpu {
            let head_partial = range.start != first;
            let tail_partial = range.end != last + line;
            if head_partial {
                plan.clean_invalidate[0] = Some(first);
                body.start = first + line;
            }
            // A range inside one line has that line at the head already.
            if tail_partial && !(head_partial && last == first) {
                plan.clean_invalidate[1] = Some(last);
                body.end = last;
            }
            body.end = body.end.max(body.start);
        }
        plan.body = body;
        plan
    }

    /// Every line of the body, first to last.
    pub fn body_lines(&self) -> impl Iterator<Item = u64> + '_ {
        self.body.clone().step_by(self.line as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOP: u64 = 0x0000_8000_0000_0000;

    #[test]
    fn directions_round_trip_and_others_are_einval() {
        for direction in [
            SyncDirection::ToDevice,
            SyncDirection::ForCpu,
            SyncDirection::Bidirectional,
        ] {
            assert_eq!(SyncDirection::from_code(direction.code()), Some(direction));
        }
        for code in [0, 4, 255, usize::MAX] {
            assert_eq!(SyncDirection::from_code(code), None);
            assert_eq!(
                SyncRequest::new(0x1000, 64, code, TOP),
                Err(Error::InvalidArgument)
            );
        }
        assert!(!SyncDirection::ToDevice.needs_write());
        assert!(SyncDirection::ForCpu.needs_write() && SyncDirection::Bidirectional.needs_write());
    }

    #[test]
    fn ranges_are_checked_overflow_first() {
        let new = |address, length| SyncRequest::new(address, length, 1, TOP);
        assert_eq!(new(u64::MAX, 2), Err(Error::InvalidArgument));
        assert_eq!(new(TOP - 64, 128), Err(Error::BadAddress));
        assert_eq!(new(TOP, 1), Err(Error::BadAddress));
        assert_eq!(new(0xffff_8000_0000_0000, 4096), Err(Error::BadAddress));
        assert_eq!(
            new(0x1000, MAX_SYNC_LENGTH + 1),
            Err(Error::InvalidArgument)
        );
        assert!(new(0x1000, MAX_SYNC_LENGTH).is_ok());
        assert!(new(TOP - 64, 64).is_ok());
        let empty = new(0xffff_0000_0000_0000, 0).unwrap();
        assert_eq!(empty.pages(4096).count(), 0);
    }

    #[test]
    fn pages_cover_the_range_exactly() {
        let request = SyncRequest::new(0x1ff0, 0x2020, 2, TOP).unwrap();
        let pages: alloc::vec::Vec<u64> = request.pages(4096).collect();
        assert_eq!(pages, [0x1000, 0x2000, 0x3000, 0x4000]);
        assert_eq!(request.within(0x1000, 4096), 0x1ff0..0x2000);
        assert_eq!(request.within(0x2000, 4096), 0x2000..0x3000);
        assert_eq!(request.within(0x4000, 4096), 0x4000..0x4010);
    }

    #[test]
    fn to_device_cleans_every_touched_line() {
        let plan = LinePlan::new(0x1010..0x10c1, SyncDirection::ToDevice, 64);
        assert_eq!(plan.clean_invalidate, [None, None]);
        assert_eq!(plan.body, 0x1000..0x10c0 + 64);
        assert_eq!(plan.body_lines().count(), 4);
    }

    #[test]
    fn for_cpu_never_only_invalidates_a_partial_line() {
        // Both ends partial.
        let plan = LinePlan::new(0x1010..0x10c1, SyncDirection::ForCpu, 64);
        assert_eq!(plan.clean_invalidate, [Some(0x1000), Some(0x10c0)]);
        assert_eq!(plan.body, 0x1040..0x10c0);
        // Aligned: all invalidate.
        let plan = LinePlan::new(0x1000..0x1100, SyncDirection::ForCpu, 64);
        assert_eq!(plan.clean_invalidate, [None, None]);
        assert_eq!(plan.body, 0x1000..0x1100);
        // Inside one line: that line once.
        let plan = LinePlan::new(0x1008..0x1010, SyncDirection::ForCpu, 64);
        assert_eq!(plan.clean_invalidate, [Some(0x1000), None]);
        assert!(plan.body.is_empty());
        // Starts aligned, ends in the same line.
        let plan = LinePlan::new(0x1000..0x1010, SyncDirection::ForCpu, 64);
        assert_eq!(plan.clean_invalidate, [None, Some(0x1000)]);
        assert!(plan.body.is_empty());
        // Two lines, both partial.
        let plan = LinePlan::new(0x1030..0x1050, SyncDirection::ForCpu, 64);
        assert_eq!(plan.clean_invalidate, [Some(0x1000), Some(0x1040)]);
        assert!(plan.body.is_empty());
        assert!(LinePlan::new(0x1000..0x1000, SyncDirection::ForCpu, 64)
            .body_lines()
            .next()
            .is_none());
    }

    /// Every line the range touches is operated on exactly once, and a line only partly in
    /// the range is never merely invalidated.
    #[test]
    fn every_plan_covers_each_line_once() {
        for start in 0x1000..0x1100u64 {
            for length in [0u64, 1, 7, 63, 64, 65, 127, 128, 200] {
                for direction in [
                    SyncDirection::ToDevice,
                    SyncDirection::ForCpu,
                    SyncDirection::Bidirectional,
                ] {
                    let range = start..start + length;
                    let plan = LinePlan::new(range.clone(), direction, 64);
                    let mut lines: alloc::vec::Vec<u64> = plan.body_lines().collect();
                    lines.extend(plan.clean_invalidate.iter().flatten());
                    lines.sort_unstable();
                    let expected: alloc::vec::Vec<u64> = if length == 0 {
                        alloc::vec![]
                    } else {
                        ((start & !63)..start + length).step_by(64).collect()
                    };
                    assert_eq!(lines, expected, "{range:x?} {direction:?}");
                    if direction == SyncDirection::ForCpu {
                        for line in plan.body_lines() {
                            assert!(line >= start && line + 64 <= start + length);
                        }
                    }
                }
            }
        }
    }
}
