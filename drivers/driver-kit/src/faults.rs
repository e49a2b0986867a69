//! Learning that the IOMMU blocked the device: the kernel counts each device's faults and
//! keeps the last one (`kernel_core::iommu::DeviceFaults`), readable only by the device's
//! holder, by a `call` with the request `faults` on a `device:NAME` handle. [`FaultWatch`]
//! holds such a handle (the driver already holds the device, so a second open is its own)
//! and says whether a fault came since it last looked; [`crate::DiskServer`] asks after each
//! transfer and answers that request `EIO` (logging the fault) instead of data the device
//! may not have moved. Without an IOMMU the count stays 0.

use alloc::format;
use alloc::string::String;
use kernel_core::iommu::DeviceFaults;
use userlib::sys::flag::O_RDWR;
use userlib::sys::{self, error::EIO, Error, Result};

/// Bytes of the `call` buffer: the request, then room for the answer's one line.
const CALL_BYTES: usize = 96;

/// A device's fault record, watched for new faults.
pub struct FaultWatch {
    fd: usize,
    device: String,
    seen: u64,
}

impl FaultWatch {
    /// Opens `device:DEVICE` (the caller holds the device) and notes the faults so far.
    ///
    /// # Errors
    ///
    /// The failing open or `call` (`EINVAL` from a kernel without the `faults` call).
    pub fn open(device: &str) -> Result<FaultWatch> {
        let fd = sys::open(&format!("device:{device}"), O_RDWR)?;
        let mut watch = FaultWatch {
            fd,
            device: device.into(),
            seen: 0,
        };
        watch.seen = watch.read()?.count;
        Ok(watch)
    }

    /// The device's fault record now.
    ///
    /// # Errors
    ///
    /// The failing `call`; `EIO` for an answer that is not a record.
    pub fn read(&self) -> Result<DeviceFaults> {
        read_faults(self.fd)
    }

    /// The record, if the device faulted since the last look (which this becomes).
    pub fn new_fault(&mut self) -> Option<DeviceFaults> {
        let faults = self.read().ok()?;
        if faults.count == self.seen {
            return None;
        }
        let new = faults.count.wrapping_sub(self.seen);
        self.seen = faults.count;
        match faults.last {
            Some((address, write)) => log::error!(
                "{}: the IOMMU blocked {new} access(es) of the device, the last a {} at {address:#x}; \
                 failing the request with EIO",
                self.device,
                if write { "write" } else { "read" }
            ),
            None => log::error!("{}: the IOMMU blocked {new} access(es)", self.device),
        }
        Some(faults)
    }
}

impl Drop for FaultWatch {
    fn drop(&mut self) {
        let _ = sys::close(self.fd);
    }
}

/// The fault record of the device held through `device:` descriptor `fd`.
///
/// # Errors
///
/// The failing `call`; `EIO` for an answer that is not a record.
pub fn read_faults(fd: usize) -> Result<DeviceFaults> {
    let mut buffer = [0u8; CALL_BYTES];
    buffer[..DeviceFaults::REQUEST.len()].copy_from_slice(DeviceFaults::REQUEST);
    let length = sys::call(fd, &mut buffer)?;
    let text =
        core::str::from_utf8(&buffer[..length.min(CALL_BYTES)]).map_err(|_| Error::new(EIO))?;
    DeviceFaults::parse(text).ok_or(Error::new(EIO))
}
