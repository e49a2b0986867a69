//! Every DMA buffer the driver uses, all from the device's pool through dmad.
//!
//! - **Rings** (`dma_alloc`): a zeroed `Dma<[u8]>` of the pages asked for, kept in a table
//!   by device address until `dma_dealloc` drops it (dmad then gets the pages back).
//! - **Requests** (`share`/`unshare`): the block driver hands the device its own memory —
//!   request headers, data, status bytes — which is not pool memory. Each is a streaming
//!   mapping (`userlib::dma::StreamMapper::map_raw`): ordinary memory always bounces through
//!   a pool buffer, filled at `share`, copied back at `unshare` when the device was to write
//!   it; idle bounce buffers are kept for reuse (up to `userlib::dma::BOUNCE_CACHE_LIMIT`),
//!   so a request costs no dmad round trip once the driver is warm. The live mappings are
//!   kept by device address, which is how `virtio_drivers` unshares.

use alloc::collections::BTreeMap;
use alloc::string::String;
use core::ptr::NonNull;
use userlib::dma::{Direction, Dma, Mapping, StreamMapper};
use userlib::sys::Result;
use virtio_drivers::{BufferDirection, PAGE_SIZE};

/// The driver's DMA buffers.
pub struct Buffers {
    device: String,
    rings: BTreeMap<u64, Dma<[u8]>>,
    mapper: StreamMapper,
    /// Live request mappings by device address.
    lent: BTreeMap<u64, Mapping<'static>>,
}

impl Buffers {
    /// No buffers yet; they will come from `device`'s pool.
    pub fn new(device: &str) -> Self {
        Buffers {
            device: device.into(),
            rings: BTreeMap::new(),
            mapper: StreamMapper::new(device),
            lent: BTreeMap::new(),
        }
    }

    /// A zeroed buffer of `pages` pages: its device address and where it is mapped.
    ///
    /// # Errors
    ///
    /// dmad's refusal.
    pub fn allocate(&mut self, pages: usize) -> Result<(u64, NonNull<u8>)> {
        let mut buffer = Dma::<[u8]>::zeroed_slice(&self.device, pages * PAGE_SIZE)?;
        let address = buffer.dma_addr();
        let pointer = NonNull::new(buffer.as_mut_ptr()).expect("a mapping is never at 0");
        self.rings.insert(address, buffer);
        Ok((address, pointer))
    }

    /// Drops the buffer `allocate` returned at `address`; whether there was one.
    pub fn release(&mut self, address: u64) -> bool {
        self.rings.remove(&address).is_some()
    }

    /// Maps `bytes` for the device (bounced, filled from them); returns the device address.
    ///
    /// # Safety
    ///
    /// `bytes` must stay valid, and untouched by anyone else, until [`unshare`] of the
    /// returned address (writable too unless the device only reads it): the promise
    /// `virtio_drivers::Hal::share`'s caller makes.
    ///
    /// # Errors
    ///
    /// dmad's refusal when no idle bounce buffer is big enough and a new one cannot be had.
    ///
    /// [`unshare`]: Self::unshare
    pub unsafe fn share(
        &mut self,
        bytes: NonNull<[u8]>,
        direction: BufferDirection,
    ) -> Result<u64> {
        // SAFETY: the caller's promise is `map_raw`'s.
        let mapping = unsafe { self.mapper.map_raw(bytes, direction_of(direction)) }?;
        let address = mapping.dma_addr();
        self.lent.insert(address, mapping);
        Ok(address)
    }

    /// Ends the mapping at `address`, copying the device's bytes back into the memory that
    /// was shared when the device was to write them; whether it was shared.
    pub fn unshare(&mut self, address: u64) -> bool {
        self.lent.remove(&address).map(Mapping::unmap).is_some()
    }

    /// How many buffers the driver holds: rings, lent and idle bounce buffers.
    pub fn held(&self) -> usize {
        self.rings.len() + self.lent.len() + self.mapper.idle_bounce_buffers()
    }
}

fn direction_of(direction: BufferDirection) -> Direction {
    match direction {
        BufferDirection::DriverToDevice => Direction::ToDevice,
        BufferDirection::DeviceToDriver => Direction::FromDevice,
        BufferDirection::Both => Direction::Bidirectional,
    }
}
