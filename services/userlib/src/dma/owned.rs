//! `DeviceOwned<T>`: a DMA buffer lent to its device, in the spirit of Tock's `dma_slice`.
//!
//! [`Dma::lend_to_device`] consumes the `Dma` (so no `&` or `&mut` into it survives: the
//! borrow checker ends them first) and returns a `DeviceOwned` that shows only what the
//! device needs — its device address and size. [`DeviceOwned::reclaim`] is the only way
//! back to the bytes, and passes the read side of the hand-off (`sync::for_cpu`) first.
//! Lending passes the write side (`sync::for_device`), so the device sees what the CPU
//! wrote.
//!
//! ```compile_fail
//! # fn demo(buffer: userlib::dma::Dma<[u8]>) {
//! let owned = buffer.lend_to_device();
//! let peek = owned[0]; // error: a `DeviceOwned` has no contents to index
//! # }
//! ```
//!
//! ```compile_fail
//! # fn demo(mut buffer: userlib::dma::Dma<[u8]>) {
//! let bytes: &mut [u8] = &mut buffer;
//! let owned = buffer.lend_to_device(); // error: `buffer` is still borrowed
//! bytes[0] = 1;
//! # }
//! ```
//!
//! ```no_run
//! # fn demo(mut buffer: userlib::dma::Dma<[u8]>) {
//! buffer[0] = 1;
//! let owned = buffer.lend_to_device();
//! let _device_address = owned.dma_addr();
//! let mut buffer = owned.reclaim();
//! buffer[0] = 2;
//! # }
//! ```
//!
//! Dropping a `DeviceOwned` releases the buffer like dropping the `Dma` (unmap, close):
//! with an IOMMU the pages return to the pool only after the device's domain no longer maps
//! them; without one, a driver must not drop a buffer its device may still write.

use super::{sync, Dma};
use core::mem::size_of_val;
use dma_api::DmaBufferInfo;

/// A DMA buffer its device owns: no CPU access until [`reclaim`](Self::reclaim).
#[must_use = "a buffer lent to the device is reclaimed (or released) explicitly"]
pub struct DeviceOwned<T: ?Sized> {
    buffer: Dma<T>,
}

impl<T: ?Sized> Dma<T> {
    /// Hands the buffer to the device: the CPU's writes are made visible to it, and safe
    /// code can reach the bytes again only through [`DeviceOwned::reclaim`].
    pub fn lend_to_device(self) -> DeviceOwned<T> {
        let (cpu_address, length) = cpu_range(&self);
        sync::for_device(cpu_address, length, self.info().cache_type);
        DeviceOwned { buffer: self }
    }
}

impl<T: ?Sized> DeviceOwned<T> {
    /// The address the device uses for the buffer's first byte.
    pub fn dma_addr(&self) -> u64 {
        self.buffer.dma_addr()
    }

    /// What dmad said of the buffer.
    pub fn info(&self) -> DmaBufferInfo {
        self.buffer.info()
    }

    /// Bytes of the buffer the `T` occupies (what the device may use).
    pub fn len_bytes(&self) -> usize {
        cpu_range(&self.buffer).1
    }

    /// Takes the buffer back from the device, once it is done (its completion was seen):
    /// the device's writes are made visible to the CPU first.
    pub fn reclaim(self) -> Dma<T> {
        let (cpu_address, length) = cpu_range(&self.buffer);
        sync::for_cpu(cpu_address, length, self.buffer.info().cache_type);
        self.buffer
    }
}

/// Where the CPU sees the buffer's `T` and how many bytes it covers.
fn cpu_range<T: ?Sized>(buffer: &Dma<T>) -> (usize, usize) {
    let value: &T = buffer;
    (value as *const T as *const u8 as usize, size_of_val(value))
}
