//! A device whose bus (or manifest pool) offsets its addresses.

use crate::{OFFSET_DEVICE, TEST_DEVICE_OFFSET};
use alloc::format;
use dma_tests::buffer::Buffer;
use dma_tests::translate::{self, Translation};
use dma_tests::PAGE_SIZE;
use process_tests::check::{expect_ok, Outcome};
use process_tests::ensure;
use userlib::sys;

/// A 2-page buffer of [`OFFSET_DEVICE`]: each page's device address is its physical
/// address (from `sys:translate`) plus [`TEST_DEVICE_OFFSET`], the pages are zero, and the
/// mapping is user-writable write-combining memory.
pub fn buffer_is_at_phys_plus_offset_zeroed_write_combining() -> Outcome {
    let pid = expect_ok("getpid", sys::getpid())?;
    let buffer = expect_ok(
        "alloc of dma-test0",
        Buffer::allocate(OFFSET_DEVICE, 2 * PAGE_SIZE),
    )?;
    let device_address = buffer.info().device_address;
    let mapping = expect_ok("fmap of the buffer", buffer.map_all())?;
    for page in 0..2 {
        let address = mapping.address() + page * PAGE_SIZE;
        let physical = match translate::query(pid, address)? {
            Translation::Mapped { physical, .. } => physical,
            Translation::Unmapped => return Err(format!("{address:#x} is not mapped")),
        };
        let expected = physical + TEST_DEVICE_OFFSET;
        let found = device_address + (page * PAGE_SIZE) as u64;
        ensure!(
            found == expected,
            "page {page}: device address {found:#x}, expected physical {physical:#x} + \
             {TEST_DEVICE_OFFSET:#x} = {expected:#x}"
        );
        translate::expect_write_combining(pid, address, physical)?;
    }
    mapping.expect("the new dma-test0 buffer", |_| 0)?;
    Ok(())
}
