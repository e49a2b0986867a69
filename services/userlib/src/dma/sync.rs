//! Sync requests: handing a write-back buffer's bytes to the device and back
//! (`kernel_core::abi::SYS_DMA_SYNC`), in the spirit of Linux's
//! `dma_sync_single_for_device` / `dma_sync_single_for_cpu`.
//!
//! A buffer from a pool declared `cache = "wb"` is cached by the CPU. On a device that does
//! not snoop the caches, a driver calls [`Dma::sync_for_device`] after the CPU filled the
//! buffer and before the device reads it, and [`Dma::sync_for_cpu`] after the device wrote it
//! and before the CPU reads it; the `_range` forms cover part of the buffer. The kernel does
//! the cache work (aarch64 EL0 may not invalidate by address) and only on write-back pages:
//! on write-combining and uncached buffers a sync is just the DMA barrier, so a driver may
//! sync unconditionally and stay correct whatever its pool's declaration. On x86_64 DMA is
//! cache-coherent and a sync is a fence.

use super::Dma;
use core::mem::size_of_val;
use kernel_core::abi::SYS_DMA_SYNC;
pub use kernel_core::dma_sync::SyncDirection;
use syscall::error::{Error, Result, EINVAL};
use syscall::syscall3;

/// Syncs `length` bytes of this process's memory at `address` for `direction`.
///
/// # Errors
///
/// `EINVAL` for a range that overflows or is over 64 MiB, `EFAULT` if a page of it is not
/// mapped (or, for [`SyncDirection::ForCpu`] and [`SyncDirection::Bidirectional`], not
/// writable). A refused sync touches no cache line.
pub fn sync(address: usize, length: usize, direction: SyncDirection) -> Result<()> {
    sync_raw(address, length, direction.code())
}

/// [`sync`] with a raw direction code (for tests of the system call itself).
///
/// # Errors
///
/// As [`sync`]; `EINVAL` for an unknown direction.
pub fn sync_raw(address: usize, length: usize, direction: usize) -> Result<()> {
    // SAFETY: the kernel only reads the caller's page tables for the range and maintains the
    // caches over it; no memory's contents as the program sees it change.
    unsafe { syscall3(SYS_DMA_SYNC, address, length, direction) }.map(|_| ())
}

impl<T: ?Sized> Dma<T> {
    /// Hands the whole buffer to the device: what the CPU wrote reaches memory.
    ///
    /// # Errors
    ///
    /// As [`sync`] (never expected for a live buffer).
    pub fn sync_for_device(&self) -> Result<()> {
        self.sync_range(0, self.len_bytes(), SyncDirection::ToDevice)
    }

    /// Takes the whole buffer back from the device: the CPU reads what the device wrote.
    ///
    /// # Errors
    ///
    /// As [`sync`] (never expected for a live buffer).
    pub fn sync_for_cpu(&self) -> Result<()> {
        self.sync_range(0, self.len_bytes(), SyncDirection::ForCpu)
    }

    /// [`sync_for_device`](Self::sync_for_device) for bytes `[offset, offset + length)`.
    ///
    /// # Errors
    ///
    /// `EINVAL` if the range does not lie in the buffer; otherwise as [`sync`].
    pub fn sync_range_for_device(&self, offset: usize, length: usize) -> Result<()> {
        self.sync_range(offset, length, SyncDirection::ToDevice)
    }

    /// [`sync_for_cpu`](Self::sync_for_cpu) for bytes `[offset, offset + length)`. Cache
    /// lines only partly inside the range are written back before they are dropped, so
    /// bytes next to it keep what the CPU wrote there.
    ///
    /// # Errors
    ///
    /// `EINVAL` if the range does not lie in the buffer; otherwise as [`sync`].
    pub fn sync_range_for_cpu(&self, offset: usize, length: usize) -> Result<()> {
        self.sync_range(offset, length, SyncDirection::ForCpu)
    }

    fn sync_range(&self, offset: usize, length: usize, direction: SyncDirection) -> Result<()> {
        let end = offset.checked_add(length).ok_or(Error::new(EINVAL))?;
        if end > self.len_bytes() {
            return Err(Error::new(EINVAL));
        }
        sync(self.as_address() + offset, length, direction)
    }

    /// The bytes the buffer's value occupies.
    fn len_bytes(&self) -> usize {
        size_of_val::<T>(self)
    }

    fn as_address(&self) -> usize {
        self.pointer.as_ptr().cast::<u8>() as usize
    }
}

// The one place CPU/device ownership hand-offs synchronise: every `DeviceOwned` lend and
// reclaim and every streaming map and unmap calls `for_device` or `for_cpu` here, with the
// buffer's cache type. Write-back buffers get the kernel's cache maintenance; the others need
// only the barrier (no system call on the hot path).

/// The CPU is done with `length` bytes at `cpu_address` of a buffer of type `cache_type`
/// ([`dma_api::cache_type`]): make its writes visible to the device before the device is told.
pub(crate) fn for_device(cpu_address: usize, length: usize, cache_type: u32) {
    if cache_type == dma_api::cache_type::WRITE_BACK {
        // The range is a live mapping of this process's buffer, so the kernel refuses it only
        // if the buffer's own bookkeeping is wrong; the barrier below still orders the writes.
        let _ = sync(cpu_address, length, SyncDirection::ToDevice);
    }
    super::write_barrier();
}

/// The device is done with `length` bytes at `cpu_address` of a buffer of type `cache_type`:
/// make its writes visible to the CPU before the CPU reads them.
pub(crate) fn for_cpu(cpu_address: usize, length: usize, cache_type: u32) {
    super::read_barrier();
    if cache_type == dma_api::cache_type::WRITE_BACK {
        let _ = sync(cpu_address, length, SyncDirection::ForCpu);
    }
}
