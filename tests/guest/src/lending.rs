//! What the `lender` server and its borrowers share: the page it lends and how to map it.

use crate::check::errno_name;
use alloc::format;
use alloc::string::String;
use userlib::sys::{self, flag::O_RDWR, Map, MapFlags};

/// Bytes the server lends: one page.
pub const PAGE: usize = 4096;

/// Every byte of the lent page, as the server wrote it.
pub const LENT_PATTERN: u8 = 0xa5;

/// Opens `lender:page` and maps the lent page read-only: `(descriptor, address)`.
pub fn open_and_map() -> Result<(usize, usize), String> {
    let file = sys::open("lender:page", O_RDWR)
        .map_err(|error| format!("open lender:page: {}", errno_name(error.errno)))?;
    Ok((file, map(file)?))
}

/// Maps the page lent through `file` (open on `lender:`) read-only; returns its address.
pub fn map(file: usize) -> Result<usize, String> {
    map_raw(file).map_err(|error| format!("fmap lender:page: {}", errno_name(error.errno)))
}

/// As [`map`], with the kernel's error as it is.
pub fn map_raw(file: usize) -> sys::Result<usize> {
    let map = Map {
        offset: 0,
        size: PAGE,
        flags: MapFlags::PROT_READ | MapFlags::MAP_SHARED,
        address: 0,
    };
    // SAFETY: a fresh mapping at an address the kernel chooses.
    unsafe { sys::fmap(file, &map) }
}

/// Checks that every byte at `address` (a lent page) is still [`LENT_PATTERN`].
pub fn check_pattern(address: usize) -> Result<(), String> {
    for offset in 0..PAGE {
        // SAFETY: `address` is a live read-only mapping of `PAGE` bytes this process made.
        let value = unsafe { ((address + offset) as *const u8).read_volatile() };
        if value != LENT_PATTERN {
            return Err(format!(
                "the lent page reads {value:#x} at offset {offset}, not {LENT_PATTERN:#x}"
            ));
        }
    }
    Ok(())
}

/// Waits until the scheme `lender` exists (its server has registered it).
pub fn wait_for_server() -> Result<(), String> {
    for _ in 0..500 {
        if let Ok(file) = sys::open("lender:page", O_RDWR) {
            let _ = sys::close(file);
            return Ok(());
        }
        let _ = userlib::time::sleep(core::time::Duration::from_millis(10));
    }
    Err(String::from("the lender never registered its scheme"))
}
