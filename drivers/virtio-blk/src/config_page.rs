//! PCI configuration access through the one 4 KiB ECAM page the kernel maps for the function.
//!
//! `virtio_drivers`' `PciRoot` wants a whole configuration mechanism (its `MmioCam` covers
//! 256 MiB of ECAM). A driver is given only its own function's page, so this
//! `ConfigurationAccess` serves exactly that function: reads of any other function see
//! `0xFFFF_FFFF` (no device there, as on real hardware) and writes to them are dropped. No
//! pointer ever leaves the mapped page.

use core::ptr::NonNull;
use virtio_blk::PciAddress;
use virtio_drivers::transport::pci::bus::{ConfigurationAccess, DeviceFunction};

/// Bytes in a function's configuration space under ECAM.
const PAGE: usize = 4096;

/// The mapped configuration page of one PCI function.
pub struct ConfigPage {
    page: NonNull<u32>,
    function: DeviceFunction,
}

impl ConfigPage {
    /// Wraps the mapping of `address`'s configuration page at `page`.
    ///
    /// # Safety
    ///
    /// `page` must be a device-memory mapping of that function's 4 KiB configuration space,
    /// 4-byte aligned, valid for the life of the program, and used by nothing else.
    pub unsafe fn new(page: NonNull<u8>, address: PciAddress) -> Self {
        ConfigPage {
            page: page.cast(),
            function: device_function(address),
        }
    }

    fn word(&self, function: DeviceFunction, offset: u8) -> Option<NonNull<u32>> {
        let offset = usize::from(offset & !3);
        if function != self.function || offset >= PAGE {
            return None;
        }
        // SAFETY: `offset / 4` words from the page's start stay inside the 4 KiB page.
        Some(unsafe { self.page.add(offset / 4) })
    }
}

impl ConfigurationAccess for ConfigPage {
    fn read_word(&self, function: DeviceFunction, offset: u8) -> u32 {
        match self.word(function, offset) {
            // SAFETY: an aligned word of the mapped configuration page (see `new`).
            Some(word) => unsafe { word.as_ptr().read_volatile() },
            None => u32::MAX,
        }
    }

    fn write_word(&mut self, function: DeviceFunction, offset: u8, data: u32) {
        if let Some(word) = self.word(function, offset) {
            // SAFETY: an aligned word of the mapped configuration page (see `new`).
            unsafe { word.as_ptr().write_volatile(data) }
        }
    }

    unsafe fn unsafe_clone(&self) -> Self {
        ConfigPage {
            page: self.page,
            function: self.function,
        }
    }
}

/// `virtio_drivers`' name for a function.
pub fn device_function(address: PciAddress) -> DeviceFunction {
    DeviceFunction {
        bus: address.bus,
        device: address.device,
        function: address.function,
    }
}
