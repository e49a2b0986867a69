//! Small-block pools: Linux's `mm/dmapool.c` (`dma_pool_create` / `dma_pool_alloc` /
//! `dma_pool_free`) as pure bookkeeping, for userlib's `DmaPool`.
//!
//! A [`BlockPool`] carves fixed-size blocks (NVMe PRP lists, descriptors) out of *pages*:
//! DMA buffers of [`page_bytes`](BlockPool::page_bytes) the caller obtained from dmad, each
//! added with its device address and the address where the caller mapped it. A block
//! allocation then costs no request to dmad: only when every page is full does
//! [`alloc`](BlockPool::alloc) return `None`, and the caller adds a page and asks again.
//!
//! # Layout
//!
//! Fixed when the pool is created and the same in every page: blocks of the block size (the
//! size rounded up to the alignment) one after another, moved up to the next boundary when
//! one would cross it, exactly as Linux's `pool_init_page` lays blocks out; computed, not
//! stored. Pages must start at a device address aligned to `page_bytes` (dmad's
//! buffers are aligned to their size), so a block that does not cross a boundary inside the
//! page does not cross one in the device's address space either; [`add_page`] refuses any
//! other address.
//!
//! # Checks
//!
//! Linux's `dma_pool_free` finds a block's page and, with `DMAPOOL_DEBUG`, checks it is not
//! free already. Here both checks are always on and typed: freeing an address that is not
//! the first byte of a block of this pool is [`BlockError::NotFromPool`], freeing a free
//! block is [`BlockError::DoubleFree`]; neither changes anything.
//!
//! # Cost
//!
//! Per page, one free bit per block; a hint remembers the page used last. Allocation is
//! O(1) while the hinted page has room (the usual case) and O(pages) when it must look for
//! another; freeing finds the page at once when it is the hinted one, else by binary search
//! (pages are kept sorted by device address). Nothing allocates except [`add_page`](BlockPool::add_page).
//!
//! [`add_page`]: BlockPool::add_page

use alloc::vec;
use alloc::vec::Vec;

/// Why a small-block pool refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockError {
    /// `EINVAL`: a size of zero, an alignment or boundary that is not a power of two, a
    /// block that cannot fit in a page or within a boundary, or a page at a misaligned or
    /// already added device address.
    Invalid(&'static str),
    /// `EINVAL`: the address is not the first byte of a block of this pool.
    NotFromPool,
    /// `EINVAL`: the block is free already.
    DoubleFree,
}

/// A block handed out: where the device and the CPU see its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// The device's address of the block.
    pub device_address: u64,
    /// The caller's address of the block (the page's CPU address plus the block's offset).
    pub cpu_address: u64,
}

/// One page's blocks.
#[derive(Clone, Debug)]
struct Page {
    device_address: u64,
    cpu_address: u64,
    /// One bit per block, set when free.
    free: Vec<u64>,
    free_blocks: u32,
}

/// Fixed-size blocks carved from caller-provided DMA pages.
#[derive(Clone, Debug)]
pub struct BlockPool {
    block_size: u64,
    page_bytes: u64,
    /// Bytes of a boundary window inside a page: the boundary, or the page if the boundary
    /// is none or larger. Blocks never cross a window's end.
    window: u64,
    /// log2 of `window`.
    window_shift: u32,
    /// Blocks in each window: `window / block_size`.
    per_window: u64,
    /// log2 of the block size and of `per_window` when the block size is a power of two
    /// (the usual case), so the hot paths shift instead of dividing.
    shifts: Option<(u32, u32)>,
    /// Blocks in each page.
    blocks_per_page: usize,
    /// Pages sorted by device address.
    pages: Vec<Page>,
    /// A page that probably has a free block.
    hint: usize,
    free_blocks: u64,
}

impl BlockPool {
    /// A pool of `size`-byte blocks aligned to `align` bytes, none crossing a multiple of
    /// `boundary` (0: no boundary), carved from pages of the smallest power-of-two number of
    /// `page_size` pages that holds a block (Linux: `dma_pool_create(name, dev, size, align,
    /// boundary)`).
    ///
    /// # Errors
    ///
    /// [`BlockError::Invalid`] for a zero size, an alignment or boundary that is not a power
    /// of two, a boundary smaller than a block, or blocks too large for 2^32-byte pages.
    pub fn new(size: u64, align: u64, boundary: u64, page_size: u64) -> Result<Self, BlockError> {
        if size == 0 {
            return Err(BlockError::Invalid("block size is zero"));
        }
        if !align.is_power_of_two() || !page_size.is_power_of_two() {
            return Err(BlockError::Invalid("alignment is not a power of two"));
        }
        if align > page_size {
            return Err(BlockError::Invalid("alignment beyond a page"));
        }
        let block_size = size
            .checked_next_multiple_of(align)
            .ok_or(BlockError::Invalid("block size overflows"))?;
        if boundary != 0 && (!boundary.is_power_of_two() || boundary < block_size) {
            return Err(BlockError::Invalid(
                "boundary is not a power of two at least the block size",
            ));
        }
        let page_bytes = block_size
            .checked_next_power_of_two()
            .ok_or(BlockError::Invalid("block size overflows"))?
            .max(page_size);
        if page_bytes > 1 << 32 {
            return Err(BlockError::Invalid("blocks larger than 4 GiB"));
        }
        // Linux's `pool_init_page` layout: blocks one after another, moved to the next
        // boundary when one would cross it; as windows divide pages (both powers of two),
        // that is `per_window` blocks at the start of every window.
        let window = if boundary == 0 {
            page_bytes
        } else {
            boundary.min(page_bytes)
        };
        let per_window = window / block_size;
        let blocks_per_page = ((page_bytes / window) * per_window) as usize;
        Ok(BlockPool {
            block_size,
            page_bytes,
            window,
            window_shift: window.trailing_zeros(),
            per_window,
            shifts: block_size
                .is_power_of_two()
                .then(|| (block_size.trailing_zeros(), per_window.trailing_zeros())),
            blocks_per_page,
            pages: Vec::new(),
            hint: 0,
            free_blocks: 0,
        })
    }

    /// Bytes per block (the size rounded up to the alignment).
    pub fn block_size(&self) -> u64 {
        self.block_size
    }

    /// Bytes of each page the caller must add: a power of two, at least one page.
    pub fn page_bytes(&self) -> u64 {
        self.page_bytes
    }

    /// Blocks in each page.
    pub fn blocks_per_page(&self) -> usize {
        self.blocks_per_page
    }

    /// Pages added.
    pub fn pages(&self) -> usize {
        self.pages.len()
    }

    /// Free blocks in all pages.
    pub fn free_blocks(&self) -> u64 {
        self.free_blocks
    }

    /// Blocks handed out and not freed.
    pub fn used_blocks(&self) -> u64 {
        self.pages.len() as u64 * self.blocks_per_page as u64 - self.free_blocks
    }

    /// Adds a page of [`page_bytes`](Self::page_bytes) whose first byte the device sees at
    /// `device_address` and the caller at `cpu_address`; all its blocks are free.
    ///
    /// # Errors
    ///
    /// [`BlockError::Invalid`] if `device_address` is not aligned to `page_bytes`, or a page
    /// at that device address was added already.
    pub fn add_page(&mut self, device_address: u64, cpu_address: u64) -> Result<(), BlockError> {
        if !device_address.is_multiple_of(self.page_bytes)
            || device_address.checked_add(self.page_bytes).is_none()
        {
            return Err(BlockError::Invalid("page not aligned to its size"));
        }
        let index = match self
            .pages
            .binary_search_by_key(&device_address, |page| page.device_address)
        {
            Ok(_) => return Err(BlockError::Invalid("page added twice")),
            Err(index) => index,
        };
        let blocks = self.blocks_per_page;
        let mut free = vec![!0u64; blocks.div_ceil(64)];
        if !blocks.is_multiple_of(64) {
            *free.last_mut().expect("at least one word") = (1u64 << (blocks % 64)) - 1;
        }
        self.pages.insert(
            index,
            Page {
                device_address,
                cpu_address,
                free,
                free_blocks: blocks as u32,
            },
        );
        self.free_blocks += blocks as u64;
        self.hint = index;
        Ok(())
    }

    /// Takes a free block, the lowest of the hinted page, or else of the lowest page with
    /// one; `None` when every page is full (add a page and ask again).
    pub fn alloc(&mut self) -> Option<Block> {
        if self.free_blocks == 0 {
            return None;
        }
        if self
            .pages
            .get(self.hint)
            .is_none_or(|page| page.free_blocks == 0)
        {
            self.hint = self.pages.iter().position(|page| page.free_blocks > 0)?;
        }
        let page = &mut self.pages[self.hint];
        let (word_index, word) = page
            .free
            .iter_mut()
            .enumerate()
            .find(|(_, word)| **word != 0)
            .expect("a page with free blocks has a set bit");
        let bit = word.trailing_zeros();
        *word &= !(1u64 << bit);
        page.free_blocks -= 1;
        self.free_blocks -= 1;
        let (device_address, cpu_address) = (page.device_address, page.cpu_address);
        let offset = self.offset(word_index * 64 + bit as usize);
        Some(Block {
            device_address: device_address + offset,
            cpu_address: cpu_address + offset,
        })
    }

    /// Returns the block whose first byte the device sees at `device_address`.
    ///
    /// # Errors
    ///
    /// [`BlockError::NotFromPool`] if no block of this pool starts there,
    /// [`BlockError::DoubleFree`] if it is free already; either way nothing changes.
    pub fn free(&mut self, device_address: u64) -> Result<(), BlockError> {
        let (index, slot) = self.locate(device_address)?;
        let page = &mut self.pages[index];
        let word = &mut page.free[slot / 64];
        let bit = 1u64 << (slot % 64);
        if *word & bit != 0 {
            return Err(BlockError::DoubleFree);
        }
        *word |= bit;
        page.free_blocks += 1;
        self.free_blocks += 1;
        self.hint = index;
        Ok(())
    }

    /// The block starting at `device_address`, if it is handed out.
    pub fn allocated(&self, device_address: u64) -> Option<Block> {
        let (index, slot) = self.locate(device_address).ok()?;
        let page = &self.pages[index];
        if page.free[slot / 64] & (1u64 << (slot % 64)) != 0 {
            return None;
        }
        let offset = self.offset(slot);
        Some(Block {
            device_address,
            cpu_address: page.cpu_address + offset,
        })
    }

    /// The offset of block `slot` inside its page.
    fn offset(&self, slot: usize) -> u64 {
        let slot = slot as u64;
        match self.shifts {
            Some((block_shift, per_window_shift)) => {
                ((slot >> per_window_shift) << self.window_shift)
                    + ((slot & (self.per_window - 1)) << block_shift)
            }
            None => {
                (slot / self.per_window) * self.window + (slot % self.per_window) * self.block_size
            }
        }
    }

    /// The block slot starting at `offset` inside a page, if one does.
    fn slot(&self, offset: u64) -> Option<usize> {
        let window = offset >> self.window_shift;
        let within = offset & (self.window - 1);
        let (index, remainder) = match self.shifts {
            Some((block_shift, _)) => (within >> block_shift, within & (self.block_size - 1)),
            None => (within / self.block_size, within % self.block_size),
        };
        (remainder == 0 && index < self.per_window)
            .then(|| (window * self.per_window + index) as usize)
    }

    /// The page index and block slot of the block starting at `device_address`: the hinted
    /// page if it holds the address, else a binary search.
    fn locate(&self, device_address: u64) -> Result<(usize, usize), BlockError> {
        let index = match self.pages.get(self.hint) {
            Some(page)
                if device_address >= page.device_address
                    && device_address - page.device_address < self.page_bytes =>
            {
                self.hint
            }
            _ => match self
                .pages
                .binary_search_by_key(&device_address, |page| page.device_address)
            {
                Ok(index) => index,
                Err(0) => return Err(BlockError::NotFromPool),
                Err(index) => index - 1,
            },
        };
        let offset = device_address - self.pages[index].device_address;
        if offset >= self.page_bytes {
            return Err(BlockError::NotFromPool);
        }
        let slot = self.slot(offset).ok_or(BlockError::NotFromPool)?;
        Ok((index, slot))
    }

    /// Every page as `(device address, CPU address)`, by device address (to release them
    /// when the pool is destroyed).
    pub fn page_addresses(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.pages
            .iter()
            .map(|page| (page.device_address, page.cpu_address))
    }
}
