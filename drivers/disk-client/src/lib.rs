//! A client of the `disk:` interface for coherent programs: `disk:` (the virtio block
//! driver) or any scheme that serves the same interface (`nvme:`, the NVMe driver); the
//! `*_on` functions take the scheme name.
//!
//! [`Disk`] is one open handle. [`Disk::read_at`] and [`Disk::write_at`] seek (the driver's
//! seek call) and then move whole sectors, splitting transfers larger than the driver's
//! per-call limit ([`disk_api::MAX_TRANSFER`]). [`wait_for_disk`] waits for the driver to
//! register its scheme.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

use core::time::Duration;
use disk_api::{DiskPath, Seek, SizeText, MAX_TRANSFER, SECTOR_SIZE};
use userlib::sys::error::{Error, EINVAL, EIO, ENOENT};
use userlib::sys::flag::O_RDWR;
use userlib::sys::{self, Result};
use userlib::syscall::flag::CallFlags;
use userlib::time;

/// One open handle on the disk; closed on drop.
pub struct Disk {
    fd: usize,
}

impl Disk {
    /// Opens the disk positioned at byte `offset`.
    ///
    /// # Errors
    ///
    /// The driver's refusal (`EINVAL` for an unaligned or too large offset), `ENOENT` when
    /// no driver serves `disk:`.
    pub fn open(offset: u64) -> Result<Disk> {
        Disk::open_on(disk_api::SCHEME, offset)
    }

    /// Opens the disk that `scheme` serves, positioned at byte `offset`.
    ///
    /// # Errors
    ///
    /// As [`Disk::open`].
    pub fn open_on(scheme: &str, offset: u64) -> Result<Disk> {
        let path = alloc::format!("{}", DiskPath::Disk { offset }.in_scheme(scheme));
        Ok(Disk {
            fd: sys::open(&path, O_RDWR)?,
        })
    }

    /// A call on the handle with `payload`; returns the reply's bytes (at most `capacity`).
    ///
    /// # Errors
    ///
    /// The driver's refusal.
    pub fn call(&self, payload: &[u8], capacity: usize) -> Result<alloc::vec::Vec<u8>> {
        let mut buffer = alloc::vec![0u8; capacity.max(payload.len())];
        buffer[..payload.len()].copy_from_slice(payload);
        let count = userlib::syscall::call_rw(self.fd, &mut buffer, CallFlags::empty(), &[])?;
        buffer.truncate(count);
        Ok(buffer)
    }

    /// The descriptor, for raw calls.
    pub fn descriptor(&self) -> usize {
        self.fd
    }

    /// Moves the position to byte `offset` (the driver's seek call).
    ///
    /// # Errors
    ///
    /// `EINVAL` for an unaligned offset or one past the end.
    pub fn seek(&self, offset: u64) -> Result<()> {
        let mut payload = Seek { offset }.to_bytes();
        let count = userlib::syscall::call_rw(self.fd, &mut payload, CallFlags::empty(), &[])?;
        if count == Seek::SIZE && u64::from_le_bytes(payload) == offset {
            Ok(())
        } else {
            Err(Error::new(EIO))
        }
    }

    /// Fills `bytes` (a whole number of sectors) from byte `offset`.
    ///
    /// # Errors
    ///
    /// The first failing call; `EIO` when the disk ends before `bytes` is full.
    pub fn read_at(&self, offset: u64, bytes: &mut [u8]) -> Result<()> {
        self.seek(offset)?;
        for chunk in bytes.chunks_mut(MAX_TRANSFER) {
            if sys::read(self.fd, chunk)? != chunk.len() {
                return Err(Error::new(EIO));
            }
        }
        Ok(())
    }

    /// Writes `bytes` (a whole number of sectors) from byte `offset`.
    ///
    /// # Errors
    ///
    /// The first failing call; `EIO` on a short write.
    pub fn write_at(&self, offset: u64, bytes: &[u8]) -> Result<()> {
        self.seek(offset)?;
        for chunk in bytes.chunks(MAX_TRANSFER) {
            if sys::write(self.fd, chunk)? != chunk.len() {
                return Err(Error::new(EIO));
            }
        }
        Ok(())
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        let _ = sys::close(self.fd);
    }
}

/// The disk's size in bytes, from `disk:/size`.
///
/// # Errors
///
/// The failing open or read; `EINVAL` when the text is not `size BYTES`.
pub fn size() -> Result<u64> {
    size_on(disk_api::SCHEME)
}

/// The size in bytes of the disk `scheme` serves, from `SCHEME:/size`.
///
/// # Errors
///
/// As [`size`].
pub fn size_on(scheme: &str) -> Result<u64> {
    let bytes = sys::read_file(&alloc::format!("{}", DiskPath::Size.in_scheme(scheme)))?;
    let text = core::str::from_utf8(&bytes).map_err(|_| Error::new(EINVAL))?;
    let size = SizeText::parse(text).ok_or(Error::new(EINVAL))?;
    if size.bytes % SECTOR_SIZE == 0 {
        Ok(size.bytes)
    } else {
        Err(Error::new(EINVAL))
    }
}

/// Waits up to `patience` for `disk:` to answer, trying every 50 ms; returns its size.
///
/// # Errors
///
/// The last failure (`ENOENT` when no driver registered the scheme in time).
pub fn wait_for_disk(patience: Duration) -> Result<u64> {
    wait_for_scheme(disk_api::SCHEME, patience)
}

/// [`wait_for_disk`] for the disk `scheme` serves.
///
/// # Errors
///
/// As [`wait_for_disk`].
pub fn wait_for_scheme(scheme: &str, patience: Duration) -> Result<u64> {
    let start = time::monotonic()?;
    loop {
        match size_on(scheme) {
            Ok(size) => return Ok(size),
            Err(error) if error.errno == ENOENT || error.errno == EIO => {
                if time::monotonic()? - start > patience {
                    return Err(error);
                }
                let _ = time::sleep(Duration::from_millis(50));
            }
            Err(error) => return Err(error),
        }
    }
}
