//! Memory system calls: `fmap` (anonymous memory here; a file's `fmap` is its scheme's —
//! a DMA pool, a device's registers, a user scheme's buffer), `funmap`, `mprotect`.

use super::user_memory;
use super::Outcome;
use crate::ipc::{self, Delivery};
use crate::object::OpenFile;
use crate::process;
use kernel_core::layout::PAGE_SIZE;
use kernel_core::{Error, PageFlags};
use redox_syscall::data::Map;
use redox_syscall::flag::MapFlags;

/// The most one mapping may take (64 MiB).
const MAX_MAPPING: usize = 64 << 20;

/// Turns `PROT_*` bits into user page flags, refusing write+execute (W^X).
fn user_flags(flags: MapFlags) -> Result<PageFlags, Error> {
    let write = flags.contains(MapFlags::PROT_WRITE);
    let execute = flags.contains(MapFlags::PROT_EXEC);
    if write && execute {
        return Err(Error::InvalidArgument);
    }
    let mut page = PageFlags::user();
    if write {
        page = page.writable();
    }
    if execute {
        page = page.executable();
    }
    Ok(page)
}

/// `fmap(fd, map, size)`: `fd` = `usize::MAX` maps fresh anonymous memory.
pub fn map(descriptor: usize, map: usize, size: usize) -> Outcome {
    if size < core::mem::size_of::<Map>() {
        return Err(Error::InvalidArgument);
    }
    let request: Map = user_memory::read(map)?;
    if request.size == 0 || request.flags.contains(MapFlags::MAP_FIXED) {
        return Err(Error::InvalidArgument);
    }
    if request.size > MAX_MAPPING {
        return Err(Error::OutOfMemory);
    }
    let flags = user_flags(request.flags)?;
    let full = process::with(|table| table.running_space().is_some_and(|space| space.is_full()));
    if full {
        return Err(Error::OutOfMemory);
    }
    if descriptor == usize::MAX {
        return process::with(|table| {
            let space = table.running_space().ok_or(Error::BadAddress)?;
            space
                .map_anonymous(request.size as u64, flags)
                .map(|address| address as usize)
                .map_err(|_| Error::OutOfMemory)
        });
    }
    let file = process::with(|table| table.running_process().files.get(descriptor))
        .ok_or(Error::BadDescriptor)?;
    let outcome = file.scheme.fmap(file.handle, &request, flags);
    OpenFile::release(file);
    outcome
}

/// `funmap(address, length)`: exactly a mapping `fmap` made; a scheme's server is told. An
/// address inside a page (as `fmap` of a device range returns) stands for its whole page.
pub fn unmap(address: usize, length: usize) -> Outcome {
    if length == 0 {
        return Err(Error::InvalidArgument);
    }
    let in_page = address % PAGE_SIZE as usize;
    let (address, length) = (address - in_page, length.saturating_add(in_page));
    let origin = process::with(|table| {
        let space = table.running_space().ok_or(Error::BadAddress)?;
        space
            .unmap_region(address as u64, length as u64)
            .map_err(|_| Error::InvalidArgument)
    })?;
    if let Some(origin) = origin {
        let size = (length as u64).div_ceil(PAGE_SIZE) * PAGE_SIZE;
        ipc::notify_unmap(&origin, size, Delivery::WaitForRoom);
    }
    Ok(0)
}

/// `mprotect(address, length, flags)`.
pub fn protect(address: usize, length: usize, flags: usize) -> Outcome {
    let flags = MapFlags::from_bits(flags).ok_or(Error::InvalidArgument)?;
    if !(address as u64).is_multiple_of(PAGE_SIZE)
        || !(length as u64).is_multiple_of(PAGE_SIZE)
        || length == 0
    {
        return Err(Error::InvalidArgument);
    }
    let page_flags = user_flags(flags)?;
    process::with(|table| {
        let space = table.running_space().ok_or(Error::BadAddress)?;
        space
            .protect(address as u64, length as u64, page_flags)
            .map_err(|error| {
                if error.is_none() {
                    Error::AccessDenied
                } else {
                    Error::BadAddress
                }
            })
    })?;
    Ok(0)
}
