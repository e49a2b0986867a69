//! `dma-hog exhaust|closed-mapped`: takes every free page of the pool (it has no quota).
//!
//! - `exhaust`: a request larger than the whole pool is `EINVAL` (it can never be met: the
//!   pool's rule for a size beyond the pool, unlike `ENOMEM` for a pool out of room); then it
//!   allocates the
//!   largest power of two of pages that still fits, halving on `ENOMEM`, until even one page
//!   is refused. The buffers must be aligned to their sizes, pairwise apart, and add up to
//!   every page the pool showed free; dmad must show no free page. One more request is
//!   `ENOMEM` and changes nothing. After closing them all the pool is as before and serves
//!   again.
//! - `closed-mapped`: maps a two-page buffer, writes a pattern and closes it while it is
//!   still mapped. Its pages must stay out of the pool: exhausting the pool hands out
//!   every other free page but none of them, the pattern and the write-combining mapping
//!   survive, and only after `funmap` is the pool back where it was.
//!
//! Exits 0 when every check passed, [`FAILED_STATUS`] at the first failure (with the reason
//! on the console), [`USAGE_STATUS`] on bad arguments.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;
use dma_tests::buffer::{overlaps, Buffer};
use dma_tests::check::expect_refused;
use dma_tests::stats::{self, Stats};
use dma_tests::{translate, DEVICE, FAILED_STATUS, PAGE_SIZE, POOL_PAGES, USAGE_STATUS};
use process_tests::check::errno_name;
use userlib::sys::{
    self,
    error::{EINVAL, ENOMEM},
};
use userlib::{println, Args};

userlib::entry!(main);

/// The most buffers exhaustion may take; halving from the pool's size needs a few dozen.
const MAX_BUFFERS: usize = 200;

fn main(args: Args) -> i32 {
    let result = match args.get(1) {
        Some("exhaust") => exhaust_and_recover(),
        Some("closed-mapped") => closed_mapped(),
        _ => {
            println!("usage: dma-hog exhaust|closed-mapped");
            return USAGE_STATUS;
        }
    };
    match result {
        Ok(()) => 0,
        Err(reason) => {
            println!("{reason}");
            FAILED_STATUS
        }
    }
}

/// Allocates until a one-page request is `ENOMEM`; none of the buffers may touch `avoid`.
/// Checks that they took exactly the pages the pool showed free, and that it shows none.
fn exhaust(avoid: Option<Range<u64>>) -> Result<Vec<Buffer>, String> {
    let start = stats::read(DEVICE)?;
    let mut pages = match start.free_pages {
        0 => 1,
        free => 1 << free.ilog2(),
    };
    let mut held: Vec<Buffer> = Vec::new();
    loop {
        match Buffer::allocate(DEVICE, pages as usize * PAGE_SIZE) {
            Ok(buffer) => {
                let range = buffer.range();
                let info = buffer.info();
                if info.size != pages * PAGE_SIZE as u64
                    || !info.device_address.is_multiple_of(info.size)
                {
                    return Err(format!("a {pages}-page request gave {info:?}"));
                }
                if let Some(other) = held.iter().find(|other| overlaps(&other.range(), &range)) {
                    return Err(format!(
                        "{range:?} overlaps {:?}, still held",
                        other.range()
                    ));
                }
                if avoid.as_ref().is_some_and(|avoid| overlaps(avoid, &range)) {
                    return Err(format!(
                        "{range:?} overlaps {avoid:?}, closed but still mapped"
                    ));
                }
                held.push(buffer);
                if held.len() > MAX_BUFFERS {
                    return Err(format!("more than {MAX_BUFFERS} buffers and no ENOMEM"));
                }
            }
            Err(error) if error.errno == ENOMEM && pages > 1 => pages /= 2,
            Err(error) if error.errno == ENOMEM => break,
            Err(error) => {
                return Err(format!(
                    "a {pages}-page request: {}",
                    errno_name(error.errno)
                ));
            }
        }
    }
    let taken: u64 = held.iter().map(Buffer::pages).sum();
    let expected = Stats {
        free_pages: 0,
        live_buffers: start.live_buffers + held.len() as u64,
    };
    let now = stats::read(DEVICE)?;
    if taken != start.free_pages || now != expected {
        return Err(format!(
            "exhausted with {} buffers of {taken} pages; the pool showed {start} before and \
             {now} after, expected {expected}",
            held.len()
        ));
    }
    Ok(held)
}

fn exhaust_and_recover() -> Result<(), String> {
    let start = stats::read(DEVICE)?;
    let beyond = 2 * POOL_PAGES as usize * PAGE_SIZE;
    expect_refused(&format!("alloc of {beyond} bytes"), EINVAL, || {
        Buffer::allocate(DEVICE, beyond)
    })?;
    let held = exhaust(None)?;
    expect_refused("alloc of one page from the exhausted pool", ENOMEM, || {
        Buffer::allocate(DEVICE, PAGE_SIZE)
    })?;
    drop(held);
    stats::settle(DEVICE, start, "after closing every buffer")?;
    let again = Buffer::allocate(DEVICE, PAGE_SIZE)
        .map_err(|error| format!("alloc after recovery: {}", errno_name(error.errno)))?;
    drop(again);
    stats::settle(DEVICE, start, "after the last buffer")
}

fn closed_mapped() -> Result<(), String> {
    let start = stats::read(DEVICE)?;
    let pid = sys::getpid().map_err(|error| format!("getpid: {}", errno_name(error.errno)))?;
    let buffer = Buffer::allocate(DEVICE, 2 * PAGE_SIZE)
        .map_err(|error| format!("alloc: {}", errno_name(error.errno)))?;
    let (range, pages) = (buffer.range(), buffer.pages());
    let mapping = buffer
        .map_all()
        .map_err(|error| format!("fmap: {}", errno_name(error.errno)))?;
    let pattern = |index: usize| 0x5A5A_0000_0000_0000 | index as u64;
    mapping.fill(pattern);
    buffer
        .close()
        .map_err(|error| format!("close while mapped: {}", errno_name(error.errno)))?;
    let held_back = start.free_pages.saturating_sub(pages);
    stats::settle_free_pages(DEVICE, held_back, "after closing the mapped buffer")?;

    let held = exhaust(Some(range.clone()))?;
    mapping.expect("the closed, mapped buffer after exhaustion", pattern)?;
    translate::expect_write_combining(pid, mapping.address(), range.start)?;
    drop(held);
    stats::settle_free_pages(DEVICE, held_back, "after freeing the others")?;

    mapping
        .unmap()
        .map_err(|error| format!("funmap: {}", errno_name(error.errno)))?;
    stats::settle(DEVICE, start, "after unmapping the closed buffer")
}
