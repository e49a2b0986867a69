//! `DmaPool`: small fixed-size DMA blocks (descriptors, PRP lists) carved from page buffers,
//! in the spirit of Linux's `dma_pool_create` / `dma_pool_zalloc` / `dma_pool_free`.
//!
//! The bookkeeping is `dma_pool::blocks::BlockPool` (pure, tested on the host); this module
//! only obtains its pages: when no page has a free block, one `Dma<[u8]>` of `page_bytes`
//! comes from dmad (open, read, map, as for any buffer). Every other allocation and every
//! free costs no request to dmad. Pages stay until the pool is dropped (as Linux keeps them
//! until `dma_pool_destroy`), which unmaps and closes them.
//!
//! A [`DmaBlock`] names its block by device and CPU address and cannot be copied, so safe
//! code frees it at most once through [`DmaPool::free`]; [`DmaPool::free_address`] frees by
//! device address and reports a double free or an address that is no block of the pool
//! (`EINVAL`, nothing changed). The block's bytes are reached through the pool
//! ([`DmaPool::bytes_mut`]), which checks that the block is one of its live blocks, so no
//! reference outlives the pool's pages.

use super::Dma;
use alloc::string::String;
use alloc::vec::Vec;
use core::ptr::NonNull;
use dma_api::PAGE_SIZE;
use dma_pool::blocks::{BlockError, BlockPool};
use syscall::error::{Error, Result, EINVAL, EIO};

/// A block handed out by a [`DmaPool`]: give [`dma_addr`](Self::dma_addr) to the device.
#[derive(Debug, PartialEq, Eq)]
pub struct DmaBlock {
    device_address: u64,
    pointer: NonNull<u8>,
}

impl DmaBlock {
    /// The address the device uses for the block's first byte.
    pub fn dma_addr(&self) -> u64 {
        self.device_address
    }

    /// Where this process sees the block's first byte (valid while the pool lives and the
    /// block is not freed).
    pub fn as_ptr(&self) -> *mut u8 {
        self.pointer.as_ptr()
    }
}

/// Fixed-size, aligned DMA blocks for one device, none crossing the pool's boundary.
pub struct DmaPool {
    device: String,
    blocks: BlockPool,
    pages: Vec<Dma<[u8]>>,
}

impl DmaPool {
    /// A pool of `size`-byte blocks aligned to `align`, none crossing a multiple of
    /// `boundary` in the device's address space (0: none), for `device`. Allocates nothing
    /// from dmad yet.
    ///
    /// # Errors
    ///
    /// `EINVAL` for a zero size, an alignment or boundary that is not a power of two, an
    /// alignment beyond a page, or a boundary smaller than a block.
    pub fn new(device: &str, size: usize, align: usize, boundary: usize) -> Result<Self> {
        let blocks =
            BlockPool::new(size as u64, align as u64, boundary as u64, PAGE_SIZE).map_err(errno)?;
        Ok(DmaPool {
            device: String::from(device),
            blocks,
            pages: Vec::new(),
        })
    }

    /// Bytes per block (the size rounded up to the alignment).
    pub fn block_size(&self) -> usize {
        self.blocks.block_size() as usize
    }

    /// Page buffers obtained from dmad so far.
    pub fn pages(&self) -> usize {
        self.pages.len()
    }

    /// A zeroed block; asks dmad for a page only when every page is full.
    ///
    /// # Errors
    ///
    /// dmad's refusal of a new page (`ENOMEM`, `EDQUOT`, ...), or `EIO` if it returned a
    /// page the pool cannot use.
    pub fn alloc(&mut self) -> Result<DmaBlock> {
        let block = match self.blocks.alloc() {
            Some(block) => block,
            None => {
                let mut page =
                    Dma::<[u8]>::zeroed_slice(&self.device, self.blocks.page_bytes() as usize)?;
                let cpu_address = page.as_mut_ptr() as u64;
                self.blocks
                    .add_page(page.dma_addr(), cpu_address)
                    .map_err(|_| Error::new(EIO))?;
                self.pages.push(page);
                self.blocks.alloc().ok_or(Error::new(EIO))?
            }
        };
        let pointer = NonNull::new(block.cpu_address as *mut u8).ok_or(Error::new(EIO))?;
        // SAFETY: the block lies inside one of `self.pages`' live mappings (the pool adds a
        // page with the address of its mapping and hands out blocks within `page_bytes`),
        // and no one else holds it: it was free until now.
        unsafe { core::ptr::write_bytes(pointer.as_ptr(), 0, self.blocks.block_size() as usize) };
        Ok(DmaBlock {
            device_address: block.device_address,
            pointer,
        })
    }

    /// Returns a block to the pool.
    ///
    /// # Errors
    ///
    /// `EINVAL` if the block is not a live block of this pool (it came from another pool).
    pub fn free(&mut self, block: DmaBlock) -> Result<()> {
        self.check_live(&block)?;
        self.free_address(block.device_address)
    }

    /// Returns the block the device sees at `device_address`.
    ///
    /// # Errors
    ///
    /// `EINVAL` if no block of this pool starts there or it is free already (a double
    /// free); nothing changes.
    pub fn free_address(&mut self, device_address: u64) -> Result<()> {
        self.blocks.free(device_address).map_err(errno)
    }

    /// The block's bytes, for the CPU to fill or read.
    ///
    /// # Errors
    ///
    /// `EINVAL` if the block is not a live block of this pool.
    pub fn bytes_mut(&mut self, block: &DmaBlock) -> Result<&mut [u8]> {
        self.check_live(block)?;
        // SAFETY: `check_live` found the block handed out by this pool at this CPU address:
        // `block_size` bytes inside a page mapping `self.pages` keeps until the pool drops;
        // the borrow of `self` keeps the pool (and any other access through it) away.
        Ok(unsafe {
            core::slice::from_raw_parts_mut(block.as_ptr(), self.blocks.block_size() as usize)
        })
    }

    /// `EINVAL` unless `block` is one of this pool's live blocks at the same CPU address.
    fn check_live(&self, block: &DmaBlock) -> Result<()> {
        match self.blocks.allocated(block.device_address) {
            Some(live) if live.cpu_address == block.as_ptr() as u64 => Ok(()),
            _ => Err(Error::new(EINVAL)),
        }
    }
}

fn errno(_: BlockError) -> Error {
    Error::new(EINVAL)
}
