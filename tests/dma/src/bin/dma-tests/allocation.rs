//! Buffers as dmad hands them out: sized, aligned, zeroed, and mapped write-combining at
//! their device address.

use alloc::format;
use alloc::vec::Vec;
use dma_tests::buffer::{alloc_path, Buffer, CACHE_WRITE_COMBINING};
use dma_tests::stats::{self, Stats};
use dma_tests::text::read_text;
use dma_tests::translate::{self, Translation};
use dma_tests::{DEVICE, PAGE_SIZE, POOL_PAGES};
use process_tests::check::{errno_name, expect_ok, Outcome};
use process_tests::ensure;
use userlib::sys::{self, error::EDQUOT, error::ENOMEM};

/// Requests (in bytes) and the pages each must get: powers of two, rounded up.
const SIZES: [(usize, u64); 6] = [
    (PAGE_SIZE, 1),
    (2 * PAGE_SIZE, 2),
    (3 * PAGE_SIZE, 4),
    (64 * PAGE_SIZE, 64),
    (1, 1),
    (PAGE_SIZE + 1, 2),
];

/// `dma:/` lists the device and its stats file reads as a pool of at most 8 MiB.
pub fn listing_names_the_pool() -> Outcome {
    let listing = expect_ok("read dma:/", read_text("dma:/"))?;
    ensure!(
        listing.split_whitespace().any(|word| word.contains(DEVICE)),
        "dma:/ does not name {DEVICE}: {listing:?}"
    );
    let now = stats::read(DEVICE)?;
    ensure!(
        now.free_pages <= POOL_PAGES,
        "{} shows {now}, more than the pool's {POOL_PAGES} pages",
        stats::path(DEVICE)
    );
    Ok(())
}

/// Checks what dmad said about a buffer asked for with `pages` pages expected.
fn expect_shape(what: &str, buffer: &Buffer, pages: u64) -> Outcome {
    let info = buffer.info();
    let size = pages * PAGE_SIZE as u64;
    ensure!(
        info.size == size,
        "{what}: size {:#x}, expected {size:#x}",
        info.size
    );
    ensure!(
        info.device_address.is_multiple_of(size),
        "{what}: device address {:#x} is not aligned to the size {size:#x}",
        info.device_address
    );
    ensure!(
        info.cache_type == CACHE_WRITE_COMBINING && info._reserved == 0,
        "{what}: cache type {} (reserved {}), expected {CACHE_WRITE_COMBINING} (0)",
        info.cache_type,
        info._reserved
    );
    Ok(())
}

/// Buffers of 1, 2, 3 and 64 pages (and of 1 and 4097 bytes) are a power of two of pages,
/// aligned to their size, all zero, and take exactly their pages; `align` is honoured.
pub fn buffers_are_aligned_powers_of_two_and_zeroed() -> Outcome {
    for (bytes, pages) in SIZES {
        let what = format!("alloc?size={bytes}");
        let before = stats::read(DEVICE)?;
        let buffer = expect_ok(&what, Buffer::allocate(DEVICE, bytes))?;
        expect_shape(&what, &buffer, pages)?;
        let expected = Stats {
            free_pages: before.free_pages.wrapping_sub(pages),
            live_buffers: before.live_buffers + 1,
        };
        let now = stats::read(DEVICE)?;
        ensure!(
            now == expected,
            "{what}: the pool shows {now}, expected {expected}"
        );
        let mapping = expect_ok(&format!("fmap of {what}"), buffer.map_all())?;
        mapping.expect(&what, |_| 0)?;
        drop(mapping);
        drop(buffer);
        stats::settle(DEVICE, before, &format!("after closing {what}"))?;
    }
    let before = stats::read(DEVICE)?;
    for align in [PAGE_SIZE, 16 * PAGE_SIZE, 512 * PAGE_SIZE] {
        let path = alloc_path(DEVICE, PAGE_SIZE, Some(align));
        let buffer = expect_ok(&path, Buffer::open(&path))?;
        expect_shape(&path, &buffer, 1)?;
        ensure!(
            buffer.info().device_address.is_multiple_of(align as u64),
            "{path}: device address {:#x}",
            buffer.info().device_address
        );
    }
    stats::settle(DEVICE, before, "after the aligned buffers")
}

/// Pages a previous owner filled with 0xA5 come back zeroed: each size is allocated,
/// filled and closed, then allocated again (keeping the buffers) until dmad hands out the
/// same device address; every buffer on the way must be all zero.
pub fn buffers_are_zeroed_after_a_previous_owner() -> Outcome {
    const DIRTY: u64 = 0xA5A5_A5A5_A5A5_A5A5;
    for pages in [1, 2, 4, 64] {
        let bytes = pages * PAGE_SIZE;
        let before = stats::read(DEVICE)?;
        let dirty = expect_ok("alloc", Buffer::allocate(DEVICE, bytes))?;
        let address = dirty.info().device_address;
        let mapping = expect_ok("fmap", dirty.map_all())?;
        mapping.fill(|_| DIRTY);
        mapping.expect("the dirtied buffer", |_| DIRTY)?;
        drop(mapping);
        drop(dirty);
        stats::settle(DEVICE, before, "after closing the dirtied buffer")?;

        let mut held = Vec::new();
        let mut found = false;
        while !found && held.len() < 200 {
            let buffer = match Buffer::allocate(DEVICE, bytes) {
                Ok(buffer) => buffer,
                Err(error) if error.errno == ENOMEM || error.errno == EDQUOT => break,
                Err(error) => return Err(format!("alloc: {}", errno_name(error.errno))),
            };
            let mapping = expect_ok("fmap", buffer.map_all())?;
            found = buffer.info().device_address == address;
            let what = format!(
                "{pages}-page buffer at {:#x} (the dirtied one at {address:#x})",
                buffer.info().device_address
            );
            mapping.expect(&what, |_| 0)?;
            held.push(buffer);
        }
        ensure!(
            found,
            "dmad never handed out the dirtied {pages}-page buffer at {address:#x} again \
             ({} other buffers)",
            held.len()
        );
        drop(held);
        stats::settle(DEVICE, before, "after closing the re-allocated buffers")?;
    }
    Ok(())
}

/// A mapping is write-combining, user-writable and on the frames at the buffer's device
/// address (the device offset is 0 in the test images), partial mappings too, and the
/// kernel shows the address unmapped after `funmap`.
pub fn mappings_are_write_combining_at_the_device_address() -> Outcome {
    let pid = expect_ok("getpid", sys::getpid())?;
    let before = stats::read(DEVICE)?;
    let buffer = expect_ok("alloc of 4 pages", Buffer::allocate(DEVICE, 4 * PAGE_SIZE))?;
    let device_address = buffer.info().device_address;
    let whole = expect_ok("fmap of the buffer", buffer.map_all())?;
    for page in 0..4 {
        translate::expect_write_combining(
            pid,
            whole.address() + page * PAGE_SIZE,
            device_address + (page * PAGE_SIZE) as u64,
        )?;
    }
    let part = expect_ok("fmap of pages 1..3", buffer.map(PAGE_SIZE, 2 * PAGE_SIZE))?;
    for page in 0..2 {
        translate::expect_write_combining(
            pid,
            part.address() + page * PAGE_SIZE,
            device_address + ((page + 1) * PAGE_SIZE) as u64,
        )?;
    }
    // Both mappings show the same memory.
    part.fill(|index| 0x1234_0000 + index as u64);
    let words_per_page = PAGE_SIZE / 8;
    whole.expect(
        "the whole mapping after writing through the partial one",
        |index| match index {
            index if (words_per_page..3 * words_per_page).contains(&index) => {
                0x1234_0000 + (index - words_per_page) as u64
            }
            _ => 0,
        },
    )?;
    let address = part.address();
    expect_ok("funmap of the partial mapping", part.unmap())?;
    let after = translate::query(pid, address)?;
    ensure!(
        after == Translation::Unmapped,
        "{address:#x} after funmap: the kernel reports {after:?}"
    );
    drop(whole);
    drop(buffer);
    stats::settle(DEVICE, before, "after closing the buffer")
}
