//! `initfs:`: the boot archive's files, read-only.

use super::bytes::{ByteScheme, Bytes};
use kernel_core::Error;
use spin::Mutex;

/// The initfs the `initfs:` scheme serves.
static INITFS: Mutex<Option<image::initfs::Archive<'static>>> = Mutex::new(None);

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
pub static INITFS_SCHEME: ByteScheme = ByteScheme::new(|request| {
    initfs_file(request.path)
        .map(Bytes::Static)
        .ok_or(Error::NotFound)
});
