//! `initfs:`: the boot archive's files, read-only.

use super::bytes::{ByteFile, Bytes};
use crate::object::{Handles, OpenRequest, Scheme, Sink, Status};
use kernel_core::Error;
use spin::Mutex;

/// The initfs the `initfs:` scheme serves.
static INITFS: Mutex<Option<image::initfs::Archive<'static>>> = Mutex::new(None);

static HANDLES: Handles<ByteFile> = Handles::new();

/// Sets the archive `initfs:` serves.
pub fn init(initfs: Option<image::initfs::Archive<'static>>) {
    *INITFS.lock() = initfs;
}

/// The initfs file at `path` (`bin/init` or `/bin/init`).
pub fn initfs_file(path: &str) -> Option<&'static [u8]> {
    let archive = INITFS.lock();
    let entry = archive.as_ref()?.find(path)?;
    entry.is_file().then_some(entry.data)
}

/// The `initfs:` scheme.
pub struct Initfs;

impl Scheme for Initfs {
    fn open(&self, request: &OpenRequest<'_>) -> Result<u64, Error> {
        let data = initfs_file(request.path).ok_or(Error::NotFound)?;
        HANDLES.insert(ByteFile::new(Bytes::Static(data)))
    }

    fn read(&self, handle: u64, buffer: &mut dyn Sink) -> Result<usize, Error> {
        HANDLES.with(handle, |file| file.read(buffer))?
    }

    fn seek(&self, handle: u64, offset: isize, whence: usize) -> Result<usize, Error> {
        HANDLES.with(handle, |file| file.seek(offset, whence))?
    }

    fn status(&self, handle: u64) -> Result<Status, Error> {
        HANDLES.with(handle, |file| file.status())
    }

    fn close(&self, handle: u64) {
        HANDLES.remove(handle);
    }
}
