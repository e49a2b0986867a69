//! Scenarios for refused requests: each leaves every table bit-identical and every frame
//! where it was.

use super::super::std::vec::Vec;
use super::super::{EmulatedFrames, EmulatedMemory};
use super::{setup, DATA};
use crate::paging::{
    entry_size, EncodeError, MapError, PageSizes, PageTable, PageTableFormat, LOWER_HALF_END,
    PAGE_SIZE, UPPER_HALF_START,
};
use crate::{CacheType, PageFlags};

/// An operation under test; it adds one to the counter on each callback it receives.
type Request<F> = fn(
    &mut PageTable<F>,
    &mut EmulatedMemory,
    &mut EmulatedFrames,
    &mut usize,
) -> Result<(), MapError>;

/// Where the setup maps one 2 MiB leaf.
const LARGE: u64 = 0x8000_0000;
/// Where the setup maps four 4 KiB leaves.
const SMALL: u64 = LARGE + 0x40_0000;
/// Nothing is mapped here.
pub(super) const FREE: u64 = 0x4_0000_0000;
/// An ordinary physical address.
const PHYSICAL: u64 = 0x1_0000_0000;

/// A physical address `F` cannot encode, two pages past one it can: mapping four pages from
/// two below it fails only at the third leaf.
fn first_too_wide<F: PageTableFormat>() -> u64 {
    (40..64)
        .map(|bits| 1u64 << bits)
        .find(|&address| F::encode_leaf(address, DATA, 3) == Err(EncodeError::AddressTooWide))
        .expect("some address is too wide")
}

/// A table with a 2 MiB leaf, four 4 KiB leaves and one upper-half page.
pub(super) fn populated<F: PageTableFormat>() -> (PageTable<F>, EmulatedMemory, EmulatedFrames) {
    let (mut table, mut memory, mut frames) = setup::<F>();
    table
        .map(
            &mut memory,
            &mut frames,
            LARGE,
            PHYSICAL,
            entry_size(2),
            DATA,
            PageSizes::Any,
        )
        .unwrap();
    table
        .map(
            &mut memory,
            &mut frames,
            SMALL,
            PHYSICAL,
            4 * PAGE_SIZE,
            DATA,
            PageSizes::Small,
        )
        .unwrap();
    table
        .map(
            &mut memory,
            &mut frames,
            UPPER_HALF_START,
            PHYSICAL,
            PAGE_SIZE,
            DATA,
            PageSizes::Small,
        )
        .unwrap();
    (table, memory, frames)
}

/// Every malformed, conflicting or unencodable request is refused with its error, calls back
/// nothing and changes nothing.
pub fn requests_refused_change_nothing<F: PageTableFormat>() {
    let requests: Vec<(MapError, Request<F>)> = Vec::from([
        (
            MapError::Misaligned,
            (|t, m, f, _| t.map(m, f, FREE + 8, PHYSICAL, PAGE_SIZE, DATA, PageSizes::Small))
                as Request<F>,
        ),
        (MapError::Misaligned, |t, m, f, _| {
            t.map(m, f, FREE, PHYSICAL + 8, PAGE_SIZE, DATA, PageSizes::Small)
        }),
        (MapError::Misaligned, |t, m, f, _| {
            t.map(m, f, FREE, PHYSICAL, PAGE_SIZE + 1, DATA, PageSizes::Any)
        }),
        (MapError::Overflow, |t, m, f, _| {
            t.map(
                m,
                f,
                u64::MAX - 0xFFF,
                PHYSICAL,
                2 * PAGE_SIZE,
                DATA,
                PageSizes::Small,
            )
        }),
        (MapError::Overflow, |t, m, f, _| {
            t.map(
                m,
                f,
                FREE,
                u64::MAX - 0xFFF,
                2 * PAGE_SIZE,
                DATA,
                PageSizes::Small,
            )
        }),
        (MapError::NonCanonical, |t, m, f, _| {
            t.map(
                m,
                f,
                LOWER_HALF_END,
                PHYSICAL,
                PAGE_SIZE,
                DATA,
                PageSizes::Small,
            )
        }),
        (MapError::NonCanonical, |t, m, f, _| {
            t.map(
                m,
                f,
                LOWER_HALF_END - PAGE_SIZE,
                PHYSICAL,
                2 * PAGE_SIZE,
                DATA,
                PageSizes::Small,
            )
        }),
        (MapError::NonCanonical, |t, m, f, _| {
            t.map(
                m,
                f,
                UPPER_HALF_START - PAGE_SIZE,
                PHYSICAL,
                2 * PAGE_SIZE,
                DATA,
                PageSizes::Small,
            )
        }),
        (MapError::AlreadyMapped, |t, m, f, _| {
            t.map(
                m,
                f,
                SMALL + 3 * PAGE_SIZE,
                PHYSICAL,
                2 * PAGE_SIZE,
                DATA,
                PageSizes::Small,
            )
        }),
        (MapError::AlreadyMapped, |t, m, f, _| {
            t.map(
                m,
                f,
                LARGE - PAGE_SIZE,
                PHYSICAL,
                2 * PAGE_SIZE,
                DATA,
                PageSizes::Small,
            )
        }),
        (MapError::AlreadyMapped, |t, m, f, _| {
            t.map(
                m,
                f,
                LARGE + PAGE_SIZE,
                PHYSICAL,
                PAGE_SIZE,
                DATA,
                PageSizes::Small,
            )
        }),
        (MapError::AlreadyMapped, |t, m, f, _| {
            t.map(
                m,
                f,
                UPPER_HALF_START,
                PHYSICAL,
                PAGE_SIZE,
                DATA,
                PageSizes::Small,
            )
        }),
        (
            MapError::Encode(EncodeError::ExecutableDeviceMemory),
            |t, m, f, _| {
                let flags = PageFlags::kernel().executable().cache(CacheType::Device);
                t.map(m, f, FREE, PHYSICAL, 4 * PAGE_SIZE, flags, PageSizes::Small)
            },
        ),
        (
            MapError::Encode(EncodeError::AddressTooWide),
            |t, m, f, _| {
                let physical = first_too_wide::<F>() - 2 * PAGE_SIZE;
                t.map(m, f, FREE, physical, 4 * PAGE_SIZE, DATA, PageSizes::Small)
            },
        ),
        (MapError::Misaligned, |t, m, f, calls| {
            t.unmap(m, f, SMALL + 1, PAGE_SIZE, |_, _, _| *calls += 1)
        }),
        (MapError::Overflow, |t, m, f, calls| {
            t.unmap(m, f, u64::MAX - 0xFFF, 2 * PAGE_SIZE, |_, _, _| *calls += 1)
        }),
        (MapError::NonCanonical, |t, m, f, calls| {
            t.unmap(m, f, LOWER_HALF_END, PAGE_SIZE, |_, _, _| *calls += 1)
        }),
        (MapError::NotMapped, |t, m, f, calls| {
            t.unmap(m, f, FREE, PAGE_SIZE, |_, _, _| *calls += 1)
        }),
        (MapError::NotMapped, |t, m, f, calls| {
            t.unmap(m, f, SMALL, 5 * PAGE_SIZE, |_, _, _| *calls += 1)
        }),
        (MapError::NotMapped, |t, m, f, calls| {
            t.unmap(m, f, SMALL - PAGE_SIZE, 2 * PAGE_SIZE, |_, _, _| {
                *calls += 1
            })
        }),
        (MapError::WouldSplitLargePage, |t, m, f, calls| {
            t.unmap(m, f, LARGE, PAGE_SIZE, |_, _, _| *calls += 1)
        }),
        (MapError::WouldSplitLargePage, |t, m, f, calls| {
            t.unmap(m, f, LARGE + PAGE_SIZE, entry_size(2), |_, _, _| {
                *calls += 1
            })
        }),
        (MapError::Misaligned, |t, m, _, calls| {
            t.protect(m, SMALL, 100, DATA, |_| *calls += 1)
        }),
        (MapError::NotMapped, |t, m, _, calls| {
            t.protect(m, FREE, PAGE_SIZE, DATA, |_| *calls += 1)
        }),
        (MapError::NotMapped, |t, m, _, calls| {
            t.protect(m, SMALL, 5 * PAGE_SIZE, DATA, |_| *calls += 1)
        }),
        (MapError::WouldSplitLargePage, |t, m, _, calls| {
            t.protect(m, LARGE + PAGE_SIZE, PAGE_SIZE, DATA, |_| *calls += 1)
        }),
        (
            MapError::Encode(EncodeError::ExecutableDeviceMemory),
            |t, m, _, calls| {
                let flags = PageFlags::kernel().executable().cache(CacheType::Uncached);
                t.protect(m, LARGE, entry_size(2), flags, |_| *calls += 1)
            },
        ),
    ]);
    for (number, (expected, request)) in requests.into_iter().enumerate() {
        let (mut table, mut memory, mut frames) = populated::<F>();
        let (before, live) = (memory.snapshot(), frames.live_tables());
        let mut calls = 0;
        let result = request(&mut table, &mut memory, &mut frames, &mut calls);
        assert_eq!(result, Err(expected), "request {number}");
        assert_eq!(
            memory.snapshot(),
            before,
            "request {number} changed the tables"
        );
        assert_eq!(
            frames.live_tables(),
            live,
            "request {number} kept or freed a frame"
        );
        assert_eq!(calls, 0, "request {number} called back");
    }
}
