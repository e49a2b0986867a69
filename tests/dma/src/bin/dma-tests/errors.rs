//! Refused requests: each gets the one errno ARCHITECTURE.md gives it, and leaves the pool
//! exactly as it was (`expect_refused` compares dmad's counts before and after).

use alloc::format;
use alloc::string::ToString;
use dma_tests::buffer::{map_raw, Buffer};
use dma_tests::check::expect_refused;
use dma_tests::{stats, DEVICE, DRIVER_QUOTA_PAGES, PAGE_SIZE};
use process_tests::check::{expect_ending, expect_errno, expect_ok, Outcome};
use process_tests::child;
use userlib::sys::error::{EBADF, EDQUOT, EINVAL, ENOENT};
use userlib::sys::{self, Ending};

const STRANGER: &str = "/bin/dma-stranger";

/// A device no pool serves is `ENOENT`.
pub fn unknown_device_is_enoent() -> Outcome {
    for path in [
        "dma:/no-such-device/alloc?size=4096",
        "/scheme/dma/no-such-device/alloc?size=4096",
        "dma:/no-such-device/stats",
    ] {
        expect_refused(path, ENOENT, || Buffer::open(path))?;
    }
    Ok(())
}

/// Size 0, a missing or unreadable size, and alignments that are not powers of two are
/// `EINVAL`.
pub fn malformed_requests_are_einval() -> Outcome {
    for request in [
        "alloc?size=0",
        "alloc",
        "alloc?size=",
        "alloc?size=lots",
        "alloc?size=-4096",
        "alloc?size=4096&align=12288",
        "alloc?size=4096&align=5000",
    ] {
        let path = format!("dma:/{DEVICE}/{request}");
        expect_refused(&path, EINVAL, || Buffer::open(&path))?;
    }
    Ok(())
}

/// Mapping past the end of a buffer, or with an offset and length whose sum overflows, is
/// `EINVAL`; the buffer stays held and maps normally afterwards.
pub fn bad_map_ranges_are_einval() -> Outcome {
    let buffer = expect_ok("alloc of one page", Buffer::allocate(DEVICE, PAGE_SIZE))?;
    let fd = buffer.fd();
    let top_page = usize::MAX - (PAGE_SIZE - 1);
    for (offset, size) in [
        (0, 2 * PAGE_SIZE),
        (PAGE_SIZE, PAGE_SIZE),
        (top_page, 2 * PAGE_SIZE),
        (top_page, PAGE_SIZE),
    ] {
        let what = format!("fmap of [{offset:#x}, +{size:#x}) of a one-page buffer");
        expect_refused(&what, EINVAL, || map_raw(fd, offset, size))?;
    }
    let mapping = expect_ok("fmap of the whole buffer after", buffer.map_all())?;
    mapping.expect("the buffer after the refused maps", |_| 0)?;
    Ok(())
}

/// Holding the driver's whole quota, one more page is `EDQUOT`; after closing a buffer the
/// driver may allocate again.
pub fn quota_is_edquot() -> Outcome {
    let before = stats::read(DEVICE)?;
    let half = DRIVER_QUOTA_PAGES as usize / 2 * PAGE_SIZE;
    let first = expect_ok("alloc of half the quota", Buffer::allocate(DEVICE, half))?;
    let second = expect_ok("alloc of the other half", Buffer::allocate(DEVICE, half))?;
    expect_refused("alloc of one page over the quota", EDQUOT, || {
        Buffer::allocate(DEVICE, PAGE_SIZE)
    })?;
    drop(first);
    let third = expect_ok(
        "alloc of half the quota after closing one half",
        Buffer::allocate(DEVICE, half),
    )?;
    expect_refused("alloc of one page over the quota again", EDQUOT, || {
        Buffer::allocate(DEVICE, PAGE_SIZE)
    })?;
    drop((second, third));
    stats::settle(DEVICE, before, "after closing the quota's buffers")
}

/// A process the manifest grants no device gets `EACCES`.
pub fn ungranted_process_gets_eacces() -> Outcome {
    let before = stats::read(DEVICE)?;
    let ending = child::run(STRANGER, &[])?;
    expect_ending("dma-stranger (expects EACCES)", ending, Ending::Exited(0))?;
    stats::settle(DEVICE, before, "after dma-stranger")
}

/// A descriptor number that is a buffer here is `EBADF` in another process, and a closed
/// buffer descriptor is `EBADF` for `close`, `read` and `fmap`; the buffer here is
/// unharmed by the other process's attempts.
pub fn foreign_and_closed_descriptors_are_ebadf() -> Outcome {
    let before = stats::read(DEVICE)?;
    let buffer = expect_ok("alloc", Buffer::allocate(DEVICE, PAGE_SIZE))?;
    let fd = buffer.fd().to_string();
    let ending = child::run(STRANGER, &["borrow", &fd])?;
    expect_ending(
        &format!("dma-stranger borrow {fd} (expects EBADF)"),
        ending,
        Ending::Exited(0),
    )?;
    let mapping = expect_ok("fmap after the other process tried", buffer.map_all())?;
    drop(mapping);

    let fd = buffer.into_fd();
    expect_ok("the first close", sys::close(fd))?;
    stats::settle(DEVICE, before, "after the first close")?;
    let mut bytes = [0u8; 24];
    expect_errno("the second close", sys::close(fd), EBADF)?;
    expect_errno("read after close", sys::read(fd, &mut bytes), EBADF)?;
    expect_errno("fmap after close", map_raw(fd, 0, PAGE_SIZE), EBADF)?;
    stats::settle(DEVICE, before, "after the refused calls")
}
