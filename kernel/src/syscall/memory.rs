//! Memory system calls: anonymous `fmap`, `funmap`, `mprotect`.

use super::{user_memory, Outcome};
use crate::process;
use kernel_core::layout::PAGE_SIZE;
use kernel_core::PageFlags;
use redox_syscall::data::Map;
use redox_syscall::error::{EBADF, EFAULT, EINVAL, ENOMEM};
use redox_syscall::flag::MapFlags;

/// The most one anonymous mapping may take (64 MiB).
const MAX_ANONYMOUS: usize = 64 << 20;

/// Turns `PROT_*` bits into user page flags, refusing write+execute (W^X).
fn user_flags(flags: MapFlags) -> Result<PageFlags, i32> {
    let write = flags.contains(MapFlags::PROT_WRITE);
    let execute = flags.contains(MapFlags::PROT_EXEC);
    if write && execute {
        return Err(EINVAL);
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

/// `fmap(fd, map, size)`: only anonymous memory (`fd = !0`) so far; scheme files come with
/// user schemes.
pub fn map(descriptor: usize, map: usize, size: usize) -> Outcome {
    if size < core::mem::size_of::<Map>() {
        return Err(EINVAL);
    }
    let request: Map = user_memory::read(map)?;
    if descriptor != usize::MAX {
        return Err(
            if process::with(|table| table.running().files.get(descriptor)).is_some() {
                EINVAL
            } else {
                EBADF
            },
        );
    }
    if request.size == 0 || request.flags.contains(MapFlags::MAP_FIXED) {
        return Err(EINVAL);
    }
    if request.size > MAX_ANONYMOUS {
        return Err(ENOMEM);
    }
    let flags = user_flags(request.flags)?;
    process::with(|table| {
        let space = table.running().space.as_mut().ok_or(EFAULT)?;
        space
            .map_anonymous(request.size as u64, flags)
            .map(|address| address as usize)
            .map_err(|_| ENOMEM)
    })
}

/// `funmap(address, length)`: exactly a mapping `fmap` made.
pub fn unmap(address: usize, length: usize) -> Outcome {
    if !(address as u64).is_multiple_of(PAGE_SIZE) || length == 0 {
        return Err(EINVAL);
    }
    process::with(|table| {
        let space = table.running().space.as_mut().ok_or(EFAULT)?;
        space
            .unmap_region(address as u64, length as u64)
            .map_err(|_| EINVAL)
    })?;
    Ok(0)
}

/// `mprotect(address, length, flags)`.
pub fn protect(address: usize, length: usize, flags: usize) -> Outcome {
    let flags = MapFlags::from_bits(flags).ok_or(EINVAL)?;
    if !(address as u64).is_multiple_of(PAGE_SIZE)
        || !(length as u64).is_multiple_of(PAGE_SIZE)
        || length == 0
    {
        return Err(EINVAL);
    }
    let page_flags = user_flags(flags)?;
    process::with(|table| {
        let space = table.running().space.as_mut().ok_or(EFAULT)?;
        space
            .protect(address as u64, length as u64, page_flags)
            .map_err(|_| EFAULT)
    })?;
    Ok(0)
}
