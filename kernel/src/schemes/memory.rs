//! `memory:` (for the process holding the `memory` right, i.e. dmad): `memory:pools`, the
//! declared pool table as text, and `memory:pool/NAME`, a pool to `fmap` with its declared
//! cache type (write-combining unless declared `wb` or `uc`; see `memory::pools`).

use super::bytes::{ByteFile, Bytes};
use super::mapping::{map_borrowed, page_list};
use crate::fallible::Text;
use crate::memory::pools::{cache_type, PoolTable};
use crate::object::{Handles, OpenRequest, Scheme, Sink, Status};
use alloc::string::String;
use core::fmt::Write;
use kernel_core::abi::MEMORY_SCHEME;
use kernel_core::layout::PAGE_SIZE;
use kernel_core::{CacheType, Error, PageFlags};
use redox_syscall::data::Map;

/// What a `memory:` handle is.
enum Open {
    /// `memory:pools`.
    Table(ByteFile),
    /// `memory:pool/NAME`: first physical byte, size and declared memory type.
    Pool {
        physical: u64,
        size: u64,
        cache: CacheType,
    },
}

static HANDLES: Handles<Open> = Handles::new();

/// The `memory:` scheme.
pub struct Memory;

impl Scheme for Memory {
    fn open(&self, request: &OpenRequest<'_>) -> Result<u64, Error> {
        if !request.caller.rights.may_serve(MEMORY_SCHEME) {
            return Err(Error::AccessDenied);
        }
        let pools = crate::memory::pools::published();
        if request.path == "pools" {
            let text = pool_table(&pools)?.into_bytes();
            return HANDLES.insert(Open::Table(ByteFile::new(Bytes::Owned(text))));
        }
        let name = request.path.strip_prefix("pool/").ok_or(Error::NotFound)?;
        let pool = pools
            .iter()
            .find(|pool| pool.name == name)
            .ok_or(Error::NotFound)?;
        HANDLES.insert(Open::Pool {
            physical: pool.physical_base,
            size: pool.size,
            cache: cache_type(pool.cache),
        })
    }

    fn read(&self, handle: u64, buffer: &mut dyn Sink) -> Result<usize, Error> {
        HANDLES.with(handle, |open| match open {
            Open::Table(file) => file.read(buffer),
            Open::Pool { .. } => Err(Error::BadDescriptor),
        })?
    }

    fn seek(&self, handle: u64, offset: isize, whence: usize) -> Result<usize, Error> {
        HANDLES.with(handle, |open| match open {
            Open::Table(file) => file.seek(offset, whence),
            Open::Pool { .. } => Err(Error::NotSeekable),
        })?
    }

    fn status(&self, handle: u64) -> Result<Status, Error> {
        HANDLES.with(handle, |open| match open {
            Open::Table(file) => file.status(),
            Open::Pool { size, .. } => Status {
                size: *size,
                mode: 0o100_600,
            },
        })
    }

    /// Maps `[offset, offset + size)` of the pool with its declared memory type, never
    /// counted (pool memory is no frame allocator's).
    fn fmap(&self, handle: u64, request: &Map, flags: PageFlags) -> Result<usize, Error> {
        let (physical, pool_size, cache) = HANDLES.with(handle, |open| match open {
            Open::Pool {
                physical,
                size,
                cache,
            } => Ok((*physical, *size, *cache)),
            Open::Table(_) => Err(Error::InvalidArgument),
        })??;
        let end = request
            .offset
            .checked_add(request.size)
            .ok_or(Error::InvalidArgument)?;
        if !request.size.is_multiple_of(PAGE_SIZE as usize)
            || !request.offset.is_multiple_of(PAGE_SIZE as usize)
            || end as u64 > pool_size
        {
            return Err(Error::InvalidArgument);
        }
        let first = physical + request.offset as u64;
        let pages = page_list(first, request.size as u64 / PAGE_SIZE)?;
        map_borrowed(&pages, flags.cache(cache), None, false)
    }

    fn close(&self, handle: u64) {
        HANDLES.remove(handle);
    }
}

/// `memory:pools`: one line per declared pool,
/// `pool NAME PHYSICAL DEVICE_BASE SIZE map|no-map DEVICES [default] cache=wb|wc|uc`,
/// DEVICES being `-` for a pool that serves no device of its own (the global pool may).
fn pool_table(pools: &PoolTable) -> Result<String, Error> {
    let mut text = Text::new();
    for pool in pools.iter() {
        let _ = write!(
            text,
            "pool {} {:#x} {:#x} {:#x} {} ",
            pool.name,
            pool.physical_base,
            pool.device_base,
            pool.size,
            if pool.no_map { "no-map" } else { "map" },
        );
        let mut devices = pool.devices().peekable();
        if devices.peek().is_none() {
            let _ = write!(text, "-");
        }
        for (index, device) in devices.enumerate() {
            let _ = write!(text, "{}{device}", if index > 0 { "," } else { "" });
        }
        let _ = writeln!(
            text,
            "{} cache={}",
            if pool.default { " default" } else { "" },
            pool.cache.token(),
        );
    }
    text.finish()
}
