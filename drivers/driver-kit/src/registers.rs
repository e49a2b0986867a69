//! The device's registers: `device:NAME` read for its description, and `fmap`ped on demand.
//!
//! A request for `[physical, physical + size)` is served from an earlier mapping that holds
//! it; otherwise the whole register range (`region` line) holding it is mapped — so a PCI
//! BAR's common, notify, ISR and device-configuration structures share one mapping — or,
//! for the PCI configuration page, that page. The kernel maps the pages around the range as
//! device memory and returns the address of its first byte. Mappings last for the life of
//! the driver.

use crate::DeviceInfo;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ptr::NonNull;
use userlib::sys::error::{Error, EIO};
use userlib::sys::flag::O_RDWR;
use userlib::sys::{self, Map, MapFlags, Result};

/// One mapped range.
#[derive(Clone, Copy, Debug)]
struct Window {
    physical: u64,
    size: u64,
    address: usize,
}

/// The open `device:` descriptor, the device's description and the mappings made so far.
pub struct Registers {
    fd: usize,
    info: DeviceInfo,
    windows: Vec<Window>,
}

impl Registers {
    /// Opens `device:NAME` and reads its description.
    ///
    /// # Errors
    ///
    /// The failing open or read (`EACCES` when not granted, `ENOENT` for no such device),
    /// `EIO` when the text cannot be understood.
    pub fn open(device: &str) -> Result<Registers> {
        let path = format!("device:{device}");
        let fd = sys::open(&path, O_RDWR)?;
        let text = sys::read_to_end(fd).map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        let info = text.and_then(|text| {
            DeviceInfo::parse(&text).ok_or_else(|| {
                log::error!("{path} says {text:?}, which names no device this driver knows");
                Error::new(EIO)
            })
        });
        match info {
            Ok(info) => Ok(Registers {
                fd,
                info,
                windows: Vec::new(),
            }),
            Err(error) => {
                let _ = sys::close(fd);
                Err(error)
            }
        }
    }

    /// What the kernel said about the device.
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// The address of `[physical, physical + size)` in this process, mapping it if needed.
    ///
    /// # Errors
    ///
    /// The kernel's refusal: `EACCES` for a byte outside the device's ranges.
    pub fn map(&mut self, physical: u64, size: u64) -> Result<NonNull<u8>> {
        if let Some(address) = self.mapped(physical, size) {
            return Ok(address);
        }
        let (base, length) = self
            .info
            .region_holding(physical, size)
            .or_else(|| self.config_page_holding(physical, size))
            .unwrap_or((physical, size));
        let map = Map {
            offset: usize::try_from(base).map_err(|_| Error::new(EIO))?,
            size: usize::try_from(length).map_err(|_| Error::new(EIO))?,
            flags: MapFlags::PROT_READ | MapFlags::PROT_WRITE | MapFlags::MAP_SHARED,
            address: 0,
        };
        // SAFETY: a fresh mapping (address 0) of device registers; the kernel chooses where,
        // so no memory this process uses is replaced.
        let address = unsafe { sys::fmap(self.fd, &map) }?;
        self.windows.push(Window {
            physical: base,
            size: length,
            address,
        });
        self.mapped(physical, size).ok_or(Error::new(EIO))
    }

    fn mapped(&self, physical: u64, size: u64) -> Option<NonNull<u8>> {
        let end = physical.checked_add(size)?;
        let window = self
            .windows
            .iter()
            .find(|window| window.physical <= physical && end <= window.physical + window.size)?;
        let offset = usize::try_from(physical - window.physical).ok()?;
        NonNull::new((window.address + offset) as *mut u8)
    }

    fn config_page_holding(&self, physical: u64, size: u64) -> Option<(u64, u64)> {
        let page = self.info.config?;
        let end = physical.checked_add(size)?;
        (page <= physical && end <= page + 4096).then_some((page, 4096))
    }
}
