//! `device:NAME`, only for a process granted device `NAME`: its description to read and
//! its register ranges to `fmap` as device memory, both as they were at open time. Opening
//! makes the caller the device's holder (`devices::quiesce`): another process's open is
//! `EBUSY` until the hold ends, and the last handle's close quiesces the device.
//!
//! `call` with the request `faults` answers the device's IOMMU fault record
//! (`kernel_core::iommu::DeviceFaults`: `faults COUNT [last ADDRESS read|write]`), so only
//! the holder learns what its device was blocked from doing; `faults 0` where no IOMMU
//! confines it.

use super::bytes::{ByteFile, Bytes};
use super::mapping::{map_borrowed, page_list};
use crate::devices::quiesce;
use crate::fallible::Text;
use crate::object::{Handles, OpenRequest, Scheme, Sink, Source, Status};
use alloc::vec::Vec;
use kernel_core::iommu::{DeviceFaults, SourceId};
use kernel_core::{CacheType, Error, PageFlags};
use redox_syscall::data::Map;

/// An open device: its description and the physical ranges a mapping may lie in, as
/// (base, size).
struct OpenDevice {
    description: ByteFile,
    windows: Vec<(u64, u64)>,
    /// The device and the hold this handle belongs to.
    device: crate::devices::Device,
    epoch: quiesce::Epoch,
}

static HANDLES: Handles<OpenDevice> = Handles::new();

/// The `device:` scheme.
pub struct Device;

impl Scheme for Device {
    fn open(&self, request: &OpenRequest<'_>) -> Result<u64, Error> {
        let device = crate::devices::find(request.path).ok_or(Error::NotFound)?;
        if !request.caller.rights.may_use_device(request.path) {
            log::warn!(
                "process {} may not use device {}",
                request.caller.name,
                request.path
            );
            return Err(Error::AccessDenied);
        }
        let mut description = Text::new();
        let _ = device.write_description(&mut description);
        let description = ByteFile::new(Bytes::Owned(description.finish()?.into_bytes()));
        let epoch = quiesce::acquire(&device, request.caller.pid)?;
        let inserted = HANDLES.insert(OpenDevice {
            description,
            windows: device.windows(),
            device: device.clone(),
            epoch,
        });
        if inserted.is_err() {
            quiesce::release(&device, epoch);
        }
        inserted
    }

    fn read(&self, handle: u64, buffer: &mut dyn Sink) -> Result<usize, Error> {
        HANDLES.with(handle, |device| device.description.read(buffer))?
    }

    /// `faults`: the device's IOMMU fault record as text; anything else is `EINVAL`.
    fn call(&self, handle: u64, input: &dyn Source, output: &mut dyn Sink) -> Result<usize, Error> {
        let request = DeviceFaults::REQUEST;
        let mut asked = [0u8; DeviceFaults::REQUEST.len()];
        if input.len() < request.len() {
            return Err(Error::InvalidArgument);
        }
        input.copy_to(0, &mut asked)?;
        if asked != request {
            return Err(Error::InvalidArgument);
        }
        let pci = HANDLES.with(handle, |device| device.device.pci)?;
        let faults = pci.map_or_else(DeviceFaults::default, |function| {
            let address = function.address;
            crate::iommu::faults_of(SourceId::pci(address.bus, address.device, address.function))
        });
        let mut text = Text::new();
        let _ = faults.write_text(&mut text);
        let text = text.finish()?;
        output.copy_from(0, text.as_bytes())?;
        Ok(text.len())
    }

    fn seek(&self, handle: u64, offset: isize, whence: usize) -> Result<usize, Error> {
        HANDLES.with(handle, |device| device.description.seek(offset, whence))?
    }

    fn status(&self, handle: u64) -> Result<Status, Error> {
        HANDLES.with(handle, |device| device.description.status())
    }

    /// `request.offset` is a physical address; every byte of the request must lie in one of
    /// the device's windows. The pages around it are mapped as device memory, never
    /// executable; the result is the address of byte `offset` (not page-aligned when
    /// `offset` is not).
    fn fmap(&self, handle: u64, request: &Map, flags: PageFlags) -> Result<usize, Error> {
        if flags.is_executable() {
            return Err(Error::AccessDenied);
        }
        let window = HANDLES
            .with(handle, |device| {
                kernel_core::device_window::device_window(
                    device.windows.iter().copied(),
                    request.offset as u64,
                    request.size as u64,
                )
            })?
            .ok_or(Error::AccessDenied)?;
        let pages = page_list(window.first_page, window.pages)?;
        let address = map_borrowed(&pages, flags.cache(CacheType::Device), None, false)?;
        Ok(address + window.offset_in_page as usize)
    }

    fn close(&self, handle: u64) {
        if let Some(device) = HANDLES.remove(handle) {
            quiesce::release(&device.device, device.epoch);
        }
    }
}
