//! Sharing a DMA buffer with another process or device (dmad's `export` / `import`, design
//! in `dmad::share`): the allocator exports a [`Dma`] and passes the token on (an argument,
//! a message over a scheme); the importer opens a [`SharedDma`] for its own device or for the
//! CPU only. The pages live until the last holder and mapping are gone.
//!
//! A [`SharedDma`] hands out no references: the exporter, the importer and their devices may
//! all write the bytes, so they are reached through a raw pointer, read and written
//! volatile (and fenced: [`write_barrier`](super::write_barrier)) by the caller.

use super::{describe_and_map, unmap, Dma};
use crate::sys;
use alloc::format;
use alloc::string::String;
use core::ptr::NonNull;
use dma_api::DmaBufferInfo;
use syscall::error::{Error, Result, EINVAL};
use syscall::flag::O_RDWR;

/// What an import of a token reads as when it was imported for the CPU only.
pub const NO_DEVICE_ADDRESS: u64 = u64::MAX;

/// Who may import an export: anyone (the default), or only for one device, or only one
/// process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportTo<'a> {
    /// The only device the token may be imported for.
    pub device: Option<&'a str>,
    /// The only process that may import it.
    pub pid: Option<u32>,
}

impl<T: ?Sized> Dma<T> {
    /// A single-use token another process imports this buffer with ([`SharedDma::import`]).
    /// Closing this buffer revokes the tokens not yet used; imports keep the pages.
    ///
    /// # Errors
    ///
    /// dmad's refusal: `ENOENT` unknown device, `ENOSPC` as many holders as allowed,
    /// `EAGAIN` too many unused tokens, `EINVAL` a malformed restriction.
    pub fn export(&self, to: ExportTo<'_>) -> Result<String> {
        let mut request = String::from("export");
        let mut separator = '?';
        if let Some(device) = to.device {
            request.push_str(&format!("{separator}device={device}"));
            separator = '&';
        }
        if let Some(pid) = to.pid {
            request.push_str(&format!("{separator}pid={pid}"));
        }
        let mut bytes = [0u8; 64];
        bytes[..request.len()].copy_from_slice(request.as_bytes());
        let length = sys::call(self.fd, &mut bytes)?;
        let token = core::str::from_utf8(&bytes[..length.min(bytes.len())])
            .map_err(|_| Error::new(EINVAL))?;
        Ok(String::from(token))
    }
}

/// Another process's buffer, imported and mapped; unmapped and closed on drop.
pub struct SharedDma {
    fd: usize,
    address: NonNull<u8>,
    info: DmaBufferInfo,
}

impl SharedDma {
    /// Imports `token` for `device` (its address for that device in
    /// [`dma_addr`](Self::dma_addr)), or for the CPU only with `None`, and maps it.
    ///
    /// # Errors
    ///
    /// `EINVAL` a malformed token, `ENOENT` an unknown device or a token that is forged,
    /// used or revoked, `EACCES` a device not granted or a token meant for another device
    /// or process; or the failing read or map.
    pub fn import(device: Option<&str>, token: &str) -> Result<Self> {
        let path = match device {
            Some(device) => format!("dma:/{device}/import?token={token}"),
            None => format!("dma:/import?token={token}"),
        };
        let fd = sys::open(&path, O_RDWR)?;
        match describe_and_map(fd, 1) {
            Ok((address, info)) => Ok(SharedDma { fd, address, info }),
            Err(error) => {
                let _ = sys::close(fd);
                Err(error)
            }
        }
    }

    /// The address the import's device uses for the first byte ([`NO_DEVICE_ADDRESS`] for a
    /// CPU-only import).
    pub fn dma_addr(&self) -> u64 {
        self.info.device_address
    }

    /// What dmad said of the import.
    pub fn info(&self) -> DmaBufferInfo {
        self.info
    }

    /// The first byte of the mapping, valid for [`len`](Self::len) bytes while `self` lives.
    pub fn as_ptr(&self) -> *mut u8 {
        self.address.as_ptr()
    }

    /// Bytes mapped (the whole buffer).
    pub fn len(&self) -> usize {
        self.info.size as usize
    }

    /// Whether nothing is mapped (never: a buffer has at least one page).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for SharedDma {
    fn drop(&mut self) {
        // Failures leave nothing to do: the kernel unmaps and closes at exit anyway.
        let _ = unmap(self.address.as_ptr() as usize, self.info.size);
        let _ = sys::close(self.fd);
    }
}
