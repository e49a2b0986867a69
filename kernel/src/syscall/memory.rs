//! Memory system calls: `fmap` (anonymous memory, a user scheme's buffer, a DMA pool, or a
//! device's registers), `funmap`, `mprotect`.

use super::{user_memory, Outcome};
use crate::ipc;
use crate::process::space::MappingOrigin;
use crate::process::{self, ProcessId};
use crate::schemes::{self, Target};
use alloc::vec::Vec;
use kernel_core::layout::PAGE_SIZE;
use kernel_core::{CacheType, PageFlags};
use redox_syscall::data::Map;
use redox_syscall::error::{EACCES, EBADF, EFAULT, EINVAL, EIO, ENOMEM};
use redox_syscall::flag::MapFlags;
use redox_syscall::schemev2::Opcode;

/// The most one mapping may take (64 MiB).
const MAX_MAPPING: usize = 64 << 20;

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

/// `fmap(fd, map, size)`.
pub fn map(descriptor: usize, map: usize, size: usize) -> Outcome {
    if size < core::mem::size_of::<Map>() {
        return Err(EINVAL);
    }
    let request: Map = user_memory::read(map)?;
    if request.size == 0 || request.flags.contains(MapFlags::MAP_FIXED) {
        return Err(EINVAL);
    }
    if request.size > MAX_MAPPING {
        return Err(ENOMEM);
    }
    let flags = user_flags(request.flags)?;
    let full = process::with(|table| {
        table
            .running()
            .space
            .as_ref()
            .is_some_and(|space| space.is_full())
    });
    if full {
        return Err(ENOMEM);
    }
    if descriptor == usize::MAX {
        return process::with(|table| {
            let space = table.running().space.as_mut().ok_or(EFAULT)?;
            space
                .map_anonymous(request.size as u64, flags)
                .map(|address| address as usize)
                .map_err(|_| ENOMEM)
        });
    }
    let file = process::with(|table| table.running().files.get(descriptor)).ok_or(EBADF)?;
    let target = schemes::target(&file);
    if let Target::Device(windows) = target {
        return map_device(&windows, &request, flags);
    }
    if !request.size.is_multiple_of(PAGE_SIZE as usize) {
        return Err(EINVAL);
    }
    match target {
        Target::Pool(physical, pool_size) => {
            let end = request.offset.checked_add(request.size).ok_or(EINVAL)?;
            if !request.offset.is_multiple_of(PAGE_SIZE as usize) || end as u64 > pool_size {
                return Err(EINVAL);
            }
            let pages: Vec<u64> = (0..request.size as u64 / PAGE_SIZE)
                .map(|page| physical + request.offset as u64 + page * PAGE_SIZE)
                .collect();
            let flags = flags.cache(CacheType::WriteCombining);
            map_borrowed(&pages, flags, None)
        }
        Target::User(scheme, handle) => map_from_server(&scheme, handle, &request, flags),
        Target::Socket(_) | Target::Kernel | Target::Device(_) => Err(EINVAL),
    }
}

/// `device:`: `request.offset` is a physical address; every byte of the request must lie in
/// one of the device's `windows`. The pages around it are mapped as device memory, never
/// executable; the result is the address of byte `offset` (not page-aligned when `offset`
/// is not).
fn map_device(windows: &[(u64, u64)], request: &Map, asked: PageFlags) -> Outcome {
    if asked.is_executable() {
        return Err(EACCES);
    }
    let window = kernel_core::device_window::device_window(
        windows.iter().copied(),
        request.offset as u64,
        request.size as u64,
    )
    .ok_or(EACCES)?;
    let pages: Vec<u64> = (0..window.pages)
        .map(|page| window.first_page + page * PAGE_SIZE)
        .collect();
    let address = map_borrowed(&pages, asked.cache(CacheType::Device), None)?;
    Ok(address + window.offset_in_page as usize)
}

/// `MmapPrep`: the server answers with the address of the pages in its own space; map those
/// frames into the caller with the server's memory type and no wider rights.
fn map_from_server(scheme: &str, handle: u64, request: &Map, asked: PageFlags) -> Outcome {
    let args = [
        handle,
        request.offset as u64,
        request.size as u64,
        request.flags.bits() as u64,
        0,
        0,
    ];
    let reply = ipc::request(scheme, Opcode::MmapPrep, args, Vec::new(), false)?;
    let server_address = ipc::result(&reply)? as u64;
    let origin = MappingOrigin {
        scheme: scheme.into(),
        handle,
        offset: request.offset as u64,
    };
    let server = ipc::owner(scheme);
    let pages =
        server.and_then(|server| server_pages(server, server_address, request.size as u64, asked));
    let Some((pages, flags)) = pages else {
        ipc::notify_unmap(&origin, request.size as u64);
        return Err(EIO);
    };
    // The server counted this mapping when it answered; if the client's space cannot take
    // it, tell the server it is gone so nothing stays counted.
    let unmap_on_failure = origin.clone();
    map_borrowed(&pages, flags, Some(origin)).inspect_err(|_| {
        ipc::notify_unmap(&unmap_on_failure, request.size as u64);
    })
}

/// The server's physical pages at `[address, address + size)` and the flags the client may
/// have: the server's memory type, the client's request narrowed to the server's rights.
fn server_pages(
    server: ProcessId,
    address: u64,
    size: u64,
    asked: PageFlags,
) -> Option<(Vec<u64>, PageFlags)> {
    if !address.is_multiple_of(PAGE_SIZE) {
        return None;
    }
    process::with(|table| {
        let space = table.map.get(&server)?.space.as_ref()?;
        let mut pages = Vec::new();
        let mut flags: Option<PageFlags> = None;
        for page in 0..size / PAGE_SIZE {
            let (physical, page_flags) = space.translate(address + page * PAGE_SIZE)?;
            if flags.is_some_and(|flags| flags.cache_type() != page_flags.cache_type()) {
                return None;
            }
            flags = Some(page_flags);
            pages.push(physical);
        }
        let server_flags = flags?;
        let mut client = PageFlags::user().cache(server_flags.cache_type());
        if asked.is_writable() && server_flags.is_writable() {
            client = client.writable();
        }
        Some((pages, client))
    })
}

fn map_borrowed(pages: &[u64], flags: PageFlags, origin: Option<MappingOrigin>) -> Outcome {
    process::with(|table| {
        let space = table.running().space.as_mut().ok_or(EFAULT)?;
        space
            .map_borrowed(pages, flags, origin)
            .map(|address| address as usize)
            .map_err(|_| ENOMEM)
    })
}

/// `funmap(address, length)`: exactly a mapping `fmap` made; a scheme's server is told. An
/// address inside a page (as `fmap` of a device range returns) stands for its whole page.
pub fn unmap(address: usize, length: usize) -> Outcome {
    if length == 0 {
        return Err(EINVAL);
    }
    let in_page = address % PAGE_SIZE as usize;
    let (address, length) = (address - in_page, length.saturating_add(in_page));
    let origin = process::with(|table| {
        let space = table.running().space.as_mut().ok_or(EFAULT)?;
        space
            .unmap_region(address as u64, length as u64)
            .map_err(|_| EINVAL)
    })?;
    if let Some(origin) = origin {
        ipc::notify_unmap(&origin, (length as u64).div_ceil(PAGE_SIZE) * PAGE_SIZE);
    }
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
            .map_err(|error| if error.is_none() { EACCES } else { EFAULT })
    })?;
    Ok(0)
}
