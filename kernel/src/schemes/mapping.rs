//! Mapping memory a process does not own into the running process: the page lists and the
//! one call `memory:`, `device:` and user-scheme `fmap`s share.

use crate::process;
use crate::process::space::MappingOrigin;
use alloc::vec::Vec;
use kernel_core::layout::PAGE_SIZE;
use kernel_core::{Error, PageFlags};

/// The addresses of `count` pages from `first`, in a list the kernel heap may refuse
/// (`ENOMEM`) rather than panic on: a 64 MiB mapping lists 16,384 pages.
pub fn page_list(first: u64, count: u64) -> Result<Vec<u64>, Error> {
    let mut pages = Vec::new();
    pages.try_reserve_exact(usize::try_from(count).map_err(|_| Error::OutOfMemory)?)?;
    pages.extend((0..count).map(|page| first + page * PAGE_SIZE));
    Ok(pages)
}

/// Maps `pages` into the running process at a free address with `flags` (see
/// `UserSpace::map_borrowed`); returns the address.
pub fn map_borrowed(
    pages: &[u64],
    flags: PageFlags,
    origin: Option<MappingOrigin>,
    counted: bool,
) -> Result<usize, Error> {
    process::with(|table| {
        let space = table.running_space().ok_or(Error::BadAddress)?;
        space
            .map_borrowed(pages, flags, origin, counted)
            .map(|address| address as usize)
            .map_err(|_| Error::OutOfMemory)
    })
}
