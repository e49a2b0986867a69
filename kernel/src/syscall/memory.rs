//! Memory system calls: `fmap` (anonymous memory, a user scheme's buffer, a DMA pool, or a
//! device's registers), `funmap`, `mprotect`.
//!
//! Lending: a user scheme's `fmap` maps the server's own frames into the client. When they
//! are allocator frames (the server's anonymous memory, or memory it borrowed so), the
//! client's mapping holds each frame once more (`memory::frames`), so the frames outlive the
//! server's own mapping and are freed by whoever lets go last. Pool and device memory is
//! never counted: it is never in the frame allocator, and dmad frees a pool buffer only once
//! every `Munmap` for it has arrived. Translating the server's pages, counting them and
//! mapping them into the client happen under one hold of the process table, so the server
//! cannot die in between; a mapping that fails there undoes the counts and sends the server
//! the `Munmap` that balances its `MmapPrep` (dmad's map count included).

use super::{user_memory, Outcome};
use crate::ipc;
use crate::memory::frames;
use crate::process;
use crate::process::space::MappingOrigin;
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
            let first = physical + request.offset as u64;
            let pages = page_list(first, request.size as u64 / PAGE_SIZE)?;
            let flags = flags.cache(CacheType::WriteCombining);
            map_borrowed(&pages, flags, None, false)
        }
        Target::User(scheme, handle) => map_from_server(&scheme, handle, &request, flags),
        Target::Socket(_) | Target::Kernel | Target::Device(_) | Target::Interrupt(_) => {
            Err(EINVAL)
        }
    }
}

/// The addresses of `count` pages from `first`, in a list the kernel heap may refuse (ENOMEM)
/// rather than panic on: a 64 MiB mapping lists 16,384 pages.
fn page_list(first: u64, count: u64) -> Result<Vec<u64>, i32> {
    let mut pages = Vec::new();
    pages
        .try_reserve_exact(usize::try_from(count).map_err(|_| ENOMEM)?)
        .map_err(|_| ENOMEM)?;
    pages.extend((0..count).map(|page| first + page * PAGE_SIZE));
    Ok(pages)
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
    let pages = page_list(window.first_page, window.pages)?;
    let address = map_borrowed(&pages, asked.cache(CacheType::Device), None, false)?;
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
    let server = reply.server;
    let size = request.size as u64;
    let mapped = process::with(|table| {
        let mut scheme_name = alloc::string::String::new();
        scheme_name
            .try_reserve_exact(scheme.len())
            .map_err(|_| ENOMEM)?;
        scheme_name.push_str(scheme);
        let lent = table
            .map
            .get(&server)
            .and_then(|server| server.space.as_ref())
            .filter(|_| server_address.is_multiple_of(PAGE_SIZE))
            .and_then(|space| space.lendable(server_address, size))
            .ok_or(EIO)?;
        let flags = client_flags(lent.flags, asked);
        if lent.counted {
            frames::share(&lent.pages).map_err(|_| ENOMEM)?;
        }
        let origin = MappingOrigin {
            scheme: scheme_name,
            handle,
            offset: request.offset as u64,
            lender: server,
            first_lender: lent.first_lender.unwrap_or(server),
        };
        let space = table.running().space.as_mut().ok_or(EFAULT);
        let mapped = space.and_then(|space| {
            space
                .map_borrowed(&lent.pages, flags, Some(origin), lent.counted)
                .map_err(|_| ENOMEM)
        });
        if mapped.is_err() && lent.counted {
            frames::release_pages(lent.pages.iter().copied());
        }
        mapped
    });
    match mapped {
        Ok(address) => Ok(address as usize),
        Err(errno) => {
            let origin = MappingOrigin {
                scheme: scheme.into(),
                handle,
                offset: request.offset as u64,
                lender: server,
                first_lender: server,
            };
            ipc::notify_unmap(&origin, size);
            Err(errno)
        }
    }
}

/// What the client may have of a server's pages with `server_flags`: the server's memory
/// type, the client's request narrowed to the server's rights, never executable.
fn client_flags(server_flags: PageFlags, asked: PageFlags) -> PageFlags {
    let mut client = PageFlags::user().cache(server_flags.cache_type());
    if asked.is_writable() && server_flags.is_writable() {
        client = client.writable();
    }
    client
}

fn map_borrowed(
    pages: &[u64],
    flags: PageFlags,
    origin: Option<MappingOrigin>,
    counted: bool,
) -> Outcome {
    process::with(|table| {
        let space = table.running().space.as_mut().ok_or(EFAULT)?;
        space
            .map_borrowed(pages, flags, origin, counted)
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
