//! Every DMA buffer the driver uses, all from the device's pool through dmad.
//!
//! - **Rings** (`dma_alloc`): a zeroed `Dma<[u8]>` of the pages asked for, kept in a table
//!   by device address until `dma_dealloc` drops it (dmad then gets the pages back).
//! - **Requests** (`share`/`unshare`): the block driver hands the device its own memory —
//!   request headers, data, status bytes — which is not pool memory. Each is bounced: `share`
//!   takes a pool buffer, copies the bytes in when the device is to read them, and gives the
//!   device the bounce buffer's address; `unshare` copies the device's bytes back out when
//!   it was to write them. Bounce buffers are kept for reuse (up to [`SPARE_LIMIT`]), so a
//!   request costs no dmad round trip once the driver is warm.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::ptr::NonNull;
use core::sync::atomic::{fence, Ordering};
use userlib::dma::Dma;
use userlib::sys::Result;
use virtio_drivers::{BufferDirection, PAGE_SIZE};

/// How many idle bounce buffers are kept.
pub const SPARE_LIMIT: usize = 8;

/// A bounce buffer lent to the device.
struct Lent {
    buffer: Dma<[u8]>,
    length: usize,
}

/// The driver's DMA buffers.
pub struct Buffers {
    device: String,
    rings: BTreeMap<u64, Dma<[u8]>>,
    lent: BTreeMap<u64, Lent>,
    spare: Vec<Dma<[u8]>>,
}

impl Buffers {
    /// No buffers yet; they will come from `device`'s pool.
    pub fn new(device: &str) -> Self {
        Buffers {
            device: device.into(),
            rings: BTreeMap::new(),
            lent: BTreeMap::new(),
            spare: Vec::new(),
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

    /// Lends the device a bounce buffer for `bytes`, filled from them unless the device only
    /// writes it; returns its device address.
    ///
    /// # Errors
    ///
    /// dmad's refusal when no spare buffer is big enough and a new one cannot be had.
    pub fn share(&mut self, bytes: &[u8], direction: BufferDirection) -> Result<u64> {
        let mut buffer = self.bounce_buffer(bytes.len())?;
        if direction != BufferDirection::DeviceToDriver {
            buffer[..bytes.len()].copy_from_slice(bytes);
            // Drain write-combining buffers before the device can look.
            fence(Ordering::SeqCst);
        }
        let address = buffer.dma_addr();
        self.lent.insert(
            address,
            Lent {
                buffer,
                length: bytes.len(),
            },
        );
        Ok(address)
    }

    /// Takes back the bounce buffer at `address`, copying the device's bytes into `into`
    /// when given (the device may have written them); whether it was lent.
    pub fn unshare(&mut self, address: u64, into: Option<&mut [u8]>) -> bool {
        let Some(lent) = self.lent.remove(&address) else {
            return false;
        };
        if let Some(bytes) = into {
            fence(Ordering::SeqCst);
            let length = lent.length.min(bytes.len());
            bytes[..length].copy_from_slice(&lent.buffer[..length]);
        }
        if self.spare.len() < SPARE_LIMIT {
            self.spare.push(lent.buffer);
        }
        true
    }

    /// How many buffers the driver holds: rings, lent and spare bounce buffers.
    pub fn held(&self) -> usize {
        self.rings.len() + self.lent.len() + self.spare.len()
    }

    fn bounce_buffer(&mut self, length: usize) -> Result<Dma<[u8]>> {
        let fits = self.spare.iter().position(|buffer| buffer.len() >= length);
        match fits {
            Some(index) => Ok(self.spare.swap_remove(index)),
            None => Dma::<[u8]>::zeroed_slice(&self.device, length.max(1)),
        }
    }
}
