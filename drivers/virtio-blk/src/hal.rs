//! `virtio_drivers::Hal` on coherent: DMA memory from dmad, registers from `device:`.
//!
//! The `Hal`'s functions take no `self`, so the driver's [`Buffers`] and [`Registers`] live
//! in one process-wide cell, set up by [`install`] before the transport is built. A driver
//! process has one thread (coherent has no thread creation), so the cell is never shared
//! between threads; a re-entrant use would be a bug and panics.
//!
//! No step can report an error through the `Hal`: a refused allocation returns address 0
//! (which `virtio_drivers` turns into `Error::DmaError`); a refused bounce buffer or register
//! mapping panics — the driver cannot go on, and dying returns all its buffers to the pool.

use crate::buffers::Buffers;
use crate::registers::Registers;
use core::cell::RefCell;
use core::ptr::NonNull;
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

/// The state the `Hal` works on.
pub struct Devices {
    /// DMA buffers.
    pub buffers: Buffers,
    /// Register mappings.
    pub registers: Registers,
}

/// The process-wide cell.
struct Cell(RefCell<Option<Devices>>);

// SAFETY: coherent user processes have exactly one thread, so no two threads ever reach the
// cell; `RefCell` catches re-entrance.
unsafe impl Sync for Cell {}

static DEVICES: Cell = Cell(RefCell::new(None));

/// Makes `devices` the state every `Hal` call uses.
pub fn install(devices: Devices) {
    *DEVICES.0.borrow_mut() = Some(devices);
}

/// Runs `work` on the installed state.
///
/// # Panics
///
/// If [`install`] has not run, or on re-entrance.
pub fn with<R>(work: impl FnOnce(&mut Devices) -> R) -> R {
    let mut devices = DEVICES.0.borrow_mut();
    work(
        devices
            .as_mut()
            .expect("hal::install runs before the transport is built"),
    )
}

/// The `Hal` of the driver.
pub struct PoolHal;

// SAFETY: `dma_alloc` returns zeroed, page-aligned mappings of fresh dmad buffers that
// nothing else references until `dma_dealloc`; `mmio_phys_to_virt` returns device mappings
// made by the kernel for this process only; `share` never lets the device see the caller's
// memory, only a bounce buffer of the streaming mapping, copied back at `unshare`.
unsafe impl Hal for PoolHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        match with(|devices| devices.buffers.allocate(pages)) {
            Ok(allocated) => allocated,
            Err(error) => {
                log::error!("cannot allocate {pages} DMA pages: {error}");
                (0, NonNull::dangling())
            }
        }
    }

    unsafe fn dma_dealloc(paddr: PhysAddr, _vaddr: NonNull<u8>, _pages: usize) -> i32 {
        if with(|devices| devices.buffers.release(paddr)) {
            0
        } else {
            -1
        }
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, size: usize) -> NonNull<u8> {
        with(|devices| devices.registers.map(paddr, size as u64)).unwrap_or_else(|error| {
            panic!("cannot map device registers {paddr:#x}+{size:#x}: {error}")
        })
    }

    unsafe fn share(buffer: NonNull<[u8]>, direction: BufferDirection) -> PhysAddr {
        let length = buffer.len();
        // SAFETY: the caller promises `buffer` is valid and untouched by others until the
        // matching `unshare`, and writable when the device may write it (lent as `&mut`).
        with(|devices| unsafe { devices.buffers.share(buffer, direction) })
            .unwrap_or_else(|error| panic!("no bounce buffer for {length} bytes: {error}"))
    }

    unsafe fn unshare(paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {
        // The mapping made at `share` remembers the memory and the direction.
        let known = with(|devices| devices.buffers.unshare(paddr));
        assert!(known, "unshare of {paddr:#x}, which was never shared");
    }
}
