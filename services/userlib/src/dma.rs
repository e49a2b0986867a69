//! DMA buffers from dmad: `Dma<T>` and `Dma<[T]>`, zeroed, mapped, released on drop.
//!
//! [`Dma::zeroed`] opens `dma:/DEVICE/alloc?size=N` (dmad allocates a zeroed,
//! power-of-two-page, size-aligned buffer from the device's pool), reads its
//! [`DmaBufferInfo`], and maps the whole buffer (`fmap`, read-write, shared; the kernel uses
//! the pool's declared memory type). [`Dma::dma_addr`] is the address to give the
//! device. Dropping unmaps and closes, and dmad returns the pages once nothing maps them.
//!
//! Small blocks (descriptors, PRP lists) come from a [`DmaPool`], which carves them from page
//! buffers so that most allocations cost no request to dmad.
//!
//! [`Dma::zeroed_slice_with`] adds address constraints ([`DmaConstraints`]: a device address
//! mask, a boundary, an alignment) to the request; dmad meets them or refuses.
//!
//! A pool's memory type is its declaration's (write-combining unless the manifest says
//! `cache = "wb"` or `"uc"`, or every device of a device-tree pool is `dma-coherent`); the
//! buffer's [`DmaBufferInfo::cache_type`] says which. Write-combining and uncached buffers need
//! only [`write_barrier`] / [`read_barrier`]: CPU writes reach memory after the barrier and
//! reads are not cached. A write-back buffer on a device that does not snoop the CPU's caches
//! needs cache maintenance by address, which this library cannot do itself on aarch64 (the
//! kernel leaves SCTLR_EL1.UCI clear, so `dc cvac` / `dc civac` at EL0 trap, and `dc ivac` is
//! EL1-only): [`Dma::sync_for_device`] before the device reads, [`Dma::sync_for_cpu`] after it
//! wrote (and their `_range` forms) ask the kernel (`SYS_DMA_SYNC`, see the `sync` module).
//! They cost only a barrier on other buffers, so drivers may call them always.
//!
//! Handing a buffer to the device is a typed step: [`Dma::lend_to_device`] turns it into a
//! [`DeviceOwned`], which shows only the device address, and [`DeviceOwned::reclaim`] gives
//! the `Dma` (and its `&mut`) back, so safe code holds no reference into a buffer the device
//! owns (Tock's `dma_slice`). A transfer from or into the driver's *own* memory is a
//! streaming mapping ([`StreamMapper`], `dma_map_single` / `dma_map_sg`): segments in the
//! device's pool map directly, the rest bounce through pool buffers; the [`Mapping`] borrows
//! the memory mutably until it is unmapped (dropped), which copies back per [`Direction`].
//!
//! Only types for which all-zero bytes are a valid value may live in a buffer
//! ([`Zeroable`]); the buffer is shared with a device, so what the device may write must be
//! read with care (volatile reads or fences) by the driver.

mod owned;
mod pool;
mod share;
mod streaming;
mod sync;

pub use owned::DeviceOwned;
pub use pool::{DmaBlock, DmaPool};
pub use share::{ExportTo, SharedDma, NO_DEVICE_ADDRESS};
pub use streaming::{
    Direction, Mapping, Segment, StreamCounters, StreamMapper, BOUNCE_CACHE_LIMIT,
};
pub use sync::{sync, sync_raw, SyncDirection};

use crate::sys;
use alloc::boxed::Box;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;
use dma_api::{AllocPath, DmaBufferInfo, PAGE_SIZE};
use syscall::error::{Error, Result, EINVAL, EIO};
use syscall::flag::O_RDWR;
use syscall::{Map, MapFlags};

/// Call between filling a buffer (a queue entry, data, a PRP list) and telling the device
/// about it (ringing a doorbell register): the buffer's bytes, written through a
/// write-combining mapping, reach memory first.
pub fn write_barrier() {
    crate::arch::dma_write_barrier();
}

/// Call between reading the flag that says the device has written a buffer (a completion's
/// phase bit) and reading the rest of what it wrote.
pub fn read_barrier() {
    crate::arch::dma_read_barrier();
}

/// Types whose all-zero bit pattern is a valid value, so a zeroed buffer holds one.
///
/// # Safety
///
/// Implement it only for types where every byte being zero is a valid value (no references,
/// no `NonZero*`, no enums without a zero variant).
pub unsafe trait Zeroable {}

macro_rules! zeroable {
    ($($type:ty),*) => { $(
        // SAFETY: zero is a valid value of every primitive integer and float type.
        unsafe impl Zeroable for $type {}
    )* };
}
zeroable!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);

// SAFETY: an array of zero-valid elements is zero-valid.
unsafe impl<T: Zeroable, const N: usize> Zeroable for [T; N] {}
// SAFETY: `MaybeUninit` holds any bit pattern.
unsafe impl<T> Zeroable for core::mem::MaybeUninit<T> {}

/// A DMA buffer mapped into this process, holding a `T` (or, as `Dma<[T]>`, a slice).
pub struct Dma<T: ?Sized> {
    fd: usize,
    pointer: NonNull<T>,
    info: DmaBufferInfo,
    /// The device whose pool it came from (streaming maps it directly only for that one).
    device: Box<str>,
    _owns: PhantomData<T>,
}

impl<T: Zeroable> Dma<T> {
    /// A zeroed `T` in a new buffer from `device`'s pool.
    ///
    /// # Errors
    ///
    /// dmad's refusal (`ENOENT` unknown device, `EACCES` not granted, `EDQUOT`, `ENOMEM`),
    /// `EINVAL` if `T` needs more than page alignment, or the failing read or map.
    pub fn zeroed(device: &str) -> Result<Self> {
        if align_of::<T>() as u64 > PAGE_SIZE {
            return Err(Error::new(EINVAL));
        }
        let constraints = DmaConstraints::default();
        let (fd, address, info) = allocate(device, size_of::<T>().max(1), constraints)?;
        Ok(Dma {
            fd,
            pointer: address.cast(),
            info,
            device: device.into(),
            _owns: PhantomData,
        })
    }
}

impl<T: Zeroable> Dma<[T]> {
    /// `count` zeroed `T`s in a new buffer from `device`'s pool.
    ///
    /// # Errors
    ///
    /// As [`Dma::zeroed`]; `EINVAL` if the slice's size overflows.
    pub fn zeroed_slice(device: &str, count: usize) -> Result<Self> {
        Self::zeroed_slice_with(device, count, DmaConstraints::default())
    }

    /// [`zeroed_slice`](Self::zeroed_slice) under `constraints`: the buffer's device
    /// address meets the alignment, lies wholly at or below the mask (`dma_set_mask`) and
    /// crosses no multiple of the boundary.
    ///
    /// # Errors
    ///
    /// As [`Dma::zeroed`]; `EINVAL` for constraints that are malformed or that no buffer of
    /// the pool could meet (a boundary smaller than the buffer, a mask below the pool),
    /// `ENOMEM` for ones that cannot be met now.
    pub fn zeroed_slice_with(
        device: &str,
        count: usize,
        constraints: DmaConstraints,
    ) -> Result<Self> {
        if align_of::<T>() as u64 > PAGE_SIZE {
            return Err(Error::new(EINVAL));
        }
        let bytes = size_of::<T>()
            .checked_mul(count)
            .ok_or(Error::new(EINVAL))?;
        let (fd, address, info) = allocate(device, bytes.max(1), constraints)?;
        let slice = core::ptr::slice_from_raw_parts_mut(address.as_ptr().cast::<T>(), count);
        Ok(Dma {
            fd,
            pointer: NonNull::new(slice).expect("a mapping is never at address 0"),
            info,
            device: device.into(),
            _owns: PhantomData,
        })
    }
}

/// Address constraints on a new buffer's device address (all optional; `Default` is none),
/// sent to dmad as the `align`, `mask` and `boundary` keys of the allocation request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DmaConstraints {
    /// An alignment larger than the buffer's size (a power of two).
    pub align: Option<u64>,
    /// The highest device address the device reaches, `2^n - 1` (`DMA_BIT_MASK(n)`).
    pub mask: Option<u64>,
    /// A power of two the buffer must not cross a multiple of.
    pub boundary: Option<u64>,
}

/// A `[T]` buffer; the name drivers use for `Dma<[T]>`.
pub type DmaSlice<T> = Dma<[T]>;

impl<T: ?Sized> Dma<T> {
    /// The address the device uses for the buffer's first byte.
    pub fn dma_addr(&self) -> u64 {
        self.info.device_address
    }

    /// What dmad said of the buffer: device address, size (a power-of-two number of pages),
    /// memory type.
    pub fn info(&self) -> DmaBufferInfo {
        self.info
    }

    /// The device whose pool the buffer came from.
    pub fn device(&self) -> &str {
        &self.device
    }
}

impl<T: ?Sized> Deref for Dma<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the pointer is a live, exclusive mapping of at least `size_of_val` zeroed
        // bytes (a valid `T` by `Zeroable`), page-aligned, unmapped only in `drop`.
        unsafe { self.pointer.as_ref() }
    }
}

impl<T: ?Sized> DerefMut for Dma<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes the borrow exclusive.
        unsafe { self.pointer.as_mut() }
    }
}

impl<T: ?Sized> Drop for Dma<T> {
    fn drop(&mut self) {
        // Failures leave nothing to do: the kernel unmaps and closes at exit anyway.
        let _ = unmap(self.pointer.as_ptr().cast::<u8>() as usize, self.info.size);
        let _ = sys::close(self.fd);
    }
}

/// Allocates `bytes` from `device`, maps the whole buffer and returns (descriptor, address,
/// descriptor info). On failure nothing stays open.
fn allocate(
    device: &str,
    bytes: usize,
    constraints: DmaConstraints,
) -> Result<(usize, NonNull<u8>, DmaBufferInfo)> {
    let path = alloc::format!(
        "{}",
        AllocPath {
            device,
            size: bytes as u64,
            align: constraints.align,
            mask: constraints.mask,
            boundary: constraints.boundary,
        }
    );
    let fd = sys::open(&path, O_RDWR)?;
    let mapped = describe_and_map(fd, bytes);
    if mapped.is_err() {
        let _ = sys::close(fd);
    }
    mapped.map(|(address, info)| (fd, address, info))
}

fn describe_and_map(fd: usize, bytes: usize) -> Result<(NonNull<u8>, DmaBufferInfo)> {
    let mut raw = [0u8; DmaBufferInfo::SIZE];
    let count = sys::read(fd, &mut raw)?;
    let info = DmaBufferInfo::from_bytes(&raw[..count]).ok_or(Error::new(EIO))?;
    let size = usize::try_from(info.size).map_err(|_| Error::new(EIO))?;
    if size < bytes {
        return Err(Error::new(EIO));
    }
    let map = Map {
        offset: 0,
        size,
        flags: MapFlags::PROT_READ | MapFlags::PROT_WRITE | MapFlags::MAP_SHARED,
        address: 0,
    };
    // SAFETY: a fresh mapping (address 0) of the buffer; the kernel chooses where, so no
    // memory this process uses is replaced.
    let address = unsafe { syscall::fmap(fd, &map) }?;
    match NonNull::new(address as *mut u8) {
        Some(address) => Ok((address, info)),
        None => Err(Error::new(EIO)),
    }
}

fn unmap(address: usize, size: u64) -> Result<usize> {
    // SAFETY: `address` is the start of this buffer's mapping of `size` bytes, which the
    // `Dma` being dropped owns; no reference into it outlives the drop.
    unsafe { syscall::funmap(address, size as usize) }
}
