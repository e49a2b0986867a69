//! DMA buffers from dmad through raw system calls, and mappings of them.
//!
//! A [`Buffer`] is one open `dma:/DEV/alloc?size=N` descriptor and the
//! [`DmaBufferInfo`] read from it; dropping it closes the descriptor (dmad releases the
//! buffer once nothing maps it). A [`Mapping`] is an `fmap` of a buffer; dropping it unmaps
//! it. The two are independent, so a test can close a buffer that is still mapped.
//!
//! The wire layout of the descriptor is defined here from ARCHITECTURE.md's table, not
//! imported from dmad, so that the suite checks dmad against the documented interface.

use crate::PAGE_SIZE;
use alloc::format;
use alloc::string::String;
use core::ops::Range;
use core::sync::atomic::{fence, Ordering};
use userlib::sys::{self, error::EIO, flag::O_RDWR, Error, Map, MapFlags, Result};

/// `DmaBufferInfo::cache_type` of a write-back buffer.
pub const CACHE_WRITE_BACK: u32 = 0;
/// `DmaBufferInfo::cache_type` of a write-combining buffer (what dmad hands out).
pub const CACHE_WRITE_COMBINING: u32 = 1;
/// `DmaBufferInfo::cache_type` of an uncached buffer.
pub const CACHE_UNCACHED: u32 = 2;
/// `DmaBufferInfo::cache_type` of device memory.
pub const CACHE_DEVICE: u32 = 3;

/// What `read` of a buffer descriptor returns (`#[repr(C)]`, native byte order).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DmaBufferInfo {
    /// The address the device uses for the buffer's first byte.
    pub device_address: u64,
    /// The buffer's size in bytes (a power-of-two number of pages).
    pub size: u64,
    /// One of the `CACHE_*` values.
    pub cache_type: u32,
    /// Zero.
    pub _reserved: u32,
}

/// Bytes of a [`DmaBufferInfo`] on the wire.
pub const INFO_SIZE: usize = core::mem::size_of::<DmaBufferInfo>();

const _: () = assert!(INFO_SIZE == 24);

impl DmaBufferInfo {
    /// Decodes the bytes a `read` returned.
    pub fn from_bytes(bytes: &[u8; INFO_SIZE]) -> Self {
        let word = |at: usize| u64::from_ne_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
        let half = |at: usize| u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap_or([0; 4]));
        Self {
            device_address: word(0),
            size: word(8),
            cache_type: half(16),
            _reserved: half(20),
        }
    }
}

/// The path that allocates `bytes` bytes from `device`, with an alignment if given.
pub fn alloc_path(device: &str, bytes: usize, align: Option<usize>) -> String {
    match align {
        Some(align) => format!("dma:/{device}/alloc?size={bytes}&align={align}"),
        None => format!("dma:/{device}/alloc?size={bytes}"),
    }
}

/// Maps `[offset, offset + size)` of descriptor `fd` read-write and shared; the address.
///
/// # Errors
///
/// Whatever the kernel or dmad answers.
pub fn map_raw(fd: usize, offset: usize, size: usize) -> Result<usize> {
    let map = Map {
        offset,
        size,
        flags: MapFlags::PROT_READ | MapFlags::PROT_WRITE | MapFlags::MAP_SHARED,
        address: 0,
    };
    // SAFETY: the kernel picks a fresh address (`address: 0`), so no memory this program
    // uses is replaced.
    unsafe { sys::fmap(fd, &map) }
}

/// One allocated buffer: its descriptor and what dmad says about it.
#[derive(Debug)]
pub struct Buffer {
    fd: usize,
    info: DmaBufferInfo,
}

impl Buffer {
    /// Opens `path` (an `alloc` request) and reads the buffer's description.
    ///
    /// # Errors
    ///
    /// The `open`'s error, or the `read`'s (a short read is `EIO`); the descriptor is closed
    /// then.
    pub fn open(path: &str) -> Result<Self> {
        let fd = sys::open(path, O_RDWR)?;
        let mut bytes = [0u8; INFO_SIZE];
        match sys::read(fd, &mut bytes) {
            Ok(INFO_SIZE) => Ok(Self {
                fd,
                info: DmaBufferInfo::from_bytes(&bytes),
            }),
            other => {
                let _ = sys::close(fd);
                Err(other.err().unwrap_or(Error::new(EIO)))
            }
        }
    }

    /// Allocates `bytes` bytes from `device`.
    ///
    /// # Errors
    ///
    /// As [`Buffer::open`].
    pub fn allocate(device: &str, bytes: usize) -> Result<Self> {
        Self::open(&alloc_path(device, bytes, None))
    }

    /// The descriptor.
    pub fn fd(&self) -> usize {
        self.fd
    }

    /// What dmad said about the buffer.
    pub fn info(&self) -> DmaBufferInfo {
        self.info
    }

    /// The buffer's size in pages.
    pub fn pages(&self) -> u64 {
        self.info.size / PAGE_SIZE as u64
    }

    /// The device addresses the buffer covers.
    pub fn range(&self) -> Range<u64> {
        self.info.device_address..self.info.device_address.saturating_add(self.info.size)
    }

    /// Maps `[offset, offset + size)` of the buffer.
    ///
    /// # Errors
    ///
    /// As [`map_raw`].
    pub fn map(&self, offset: usize, size: usize) -> Result<Mapping> {
        let address = map_raw(self.fd, offset, size)?;
        Ok(Mapping { address, size })
    }

    /// Maps the whole buffer.
    ///
    /// # Errors
    ///
    /// As [`map_raw`].
    pub fn map_all(&self) -> Result<Mapping> {
        self.map(0, self.info.size as usize)
    }

    /// Closes the descriptor, returning the result.
    ///
    /// # Errors
    ///
    /// `close`'s.
    pub fn close(self) -> Result<usize> {
        let fd = self.into_fd();
        sys::close(fd)
    }

    /// Gives up the descriptor without closing it.
    pub fn into_fd(self) -> usize {
        let fd = self.fd;
        core::mem::forget(self);
        fd
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        let _ = sys::close(self.fd);
    }
}

/// Whether two device ranges share a byte.
pub fn overlaps(first: &Range<u64>, second: &Range<u64>) -> bool {
    first.start < second.end && second.start < first.end
}

/// A mapped range of a buffer, unmapped on drop.
#[derive(Debug)]
pub struct Mapping {
    address: usize,
    size: usize,
}

impl Mapping {
    /// Where it is mapped.
    pub fn address(&self) -> usize {
        self.address
    }

    /// Its size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    fn words(&self) -> usize {
        self.size / 8
    }

    /// Writes `value(index)` into each 64-bit word.
    pub fn fill(&self, value: impl Fn(usize) -> u64) {
        let base = self.address as *mut u64;
        for index in 0..self.words() {
            // SAFETY: the kernel mapped `size` bytes read-write at `address` (page-aligned)
            // for as long as this `Mapping` lives; the memory is DMA memory only this
            // process uses while it owns the buffer, so volatile stores race with nothing
            // the compiler knows about.
            unsafe { base.add(index).write_volatile(value(index)) };
        }
        // Drain write-combining buffers, so the stores are in memory before anything that
        // follows (a read through another mapping, a device, another process).
        fence(Ordering::SeqCst);
    }

    /// The first word (index, value found) that is not `expected(index)`.
    pub fn first_mismatch(&self, expected: impl Fn(usize) -> u64) -> Option<(usize, u64)> {
        let base = self.address as *const u64;
        (0..self.words()).find_map(|index| {
            // SAFETY: as in `fill`: mapped, readable, page-aligned, alive with `self`.
            let found = unsafe { base.add(index).read_volatile() };
            (found != expected(index)).then_some((index, found))
        })
    }

    /// A reason when some word is not `expected(index)`; `what` names the buffer.
    ///
    /// # Errors
    ///
    /// The first mismatch, described.
    pub fn expect(
        &self,
        what: &str,
        expected: impl Fn(usize) -> u64,
    ) -> core::result::Result<(), String> {
        match self.first_mismatch(&expected) {
            None => Ok(()),
            Some((index, found)) => Err(format!(
                "{what}: byte {:#x} holds {found:#018x}, expected {:#018x}",
                index * 8,
                expected(index)
            )),
        }
    }

    /// Unmaps, returning the result.
    ///
    /// # Errors
    ///
    /// `funmap`'s.
    pub fn unmap(self) -> Result<usize> {
        let (address, size) = (self.address, self.size);
        core::mem::forget(self);
        // SAFETY: nothing refers into the mapping once `self` is gone.
        unsafe { sys::funmap(address, size) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: nothing refers into the mapping once it is dropped.
        let _ = unsafe { sys::funmap(self.address, self.size) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_descriptor() {
        let mut bytes = [0u8; INFO_SIZE];
        bytes[..8].copy_from_slice(&0x4810_0000u64.to_ne_bytes());
        bytes[8..16].copy_from_slice(&16384u64.to_ne_bytes());
        bytes[16..20].copy_from_slice(&CACHE_WRITE_COMBINING.to_ne_bytes());
        let info = DmaBufferInfo::from_bytes(&bytes);
        assert_eq!(info.device_address, 0x4810_0000);
        assert_eq!(info.size, 16384);
        assert_eq!(info.cache_type, CACHE_WRITE_COMBINING);
        assert_eq!(info._reserved, 0);
    }

    #[test]
    fn builds_paths_and_compares_ranges() {
        assert_eq!(
            alloc_path("virtio-blk0", 4096, None),
            "dma:/virtio-blk0/alloc?size=4096"
        );
        assert_eq!(
            alloc_path("d", 1, Some(65536)),
            "dma:/d/alloc?size=1&align=65536"
        );
        assert!(overlaps(&(0..8), &(7..9)));
        assert!(!overlaps(&(0..8), &(8..9)));
    }
}
