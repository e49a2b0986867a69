//! A faithful port of Linux's coherent-pool allocator: `kernel/dma/coherent.c` over
//! `bitmap_find_free_region` / `bitmap_release_region` (include/linux/bitmap.h, lib/bitmap.c,
//! lib/find_bit.c), with 64-bit words, as the baseline the pool is measured against.

/// `struct dma_coherent_mem`: a flat bitmap, one bit per page, set when allocated.
pub struct LinuxCoherentPool {
    bitmap: Vec<u64>,
    size: u32,
    phys_base: u64,
    device_base: u64,
}

const BITS_PER_LONG: u32 = 64;

/// `BITMAP_FIRST_WORD_MASK(start)`.
fn first_word_mask(start: u32) -> u64 {
    !0u64 << (start % BITS_PER_LONG)
}

/// `BITMAP_LAST_WORD_MASK(nbits)`.
fn last_word_mask(nbits: u32) -> u64 {
    !0u64 >> ((BITS_PER_LONG - nbits % BITS_PER_LONG) % BITS_PER_LONG)
}

impl LinuxCoherentPool {
    /// `dma_init_coherent_memory`: an empty pool of `pages` pages.
    pub fn new(phys_base: u64, device_base: u64, pages: u32) -> Self {
        LinuxCoherentPool {
            bitmap: vec![0; pages.div_ceil(BITS_PER_LONG) as usize],
            size: pages,
            phys_base,
            device_base,
        }
    }

    /// `__dma_alloc_from_coherent` without the memset: returns the physical and device
    /// addresses.
    pub fn alloc(&mut self, size_bytes: u64) -> Option<(u64, u64)> {
        if size_bytes > (u64::from(self.size) << 12) {
            return None;
        }
        let order = get_order(size_bytes);
        let pageno = self.find_free_region(order)?;
        let offset = u64::from(pageno) << 12;
        Some((self.phys_base + offset, self.device_base + offset))
    }

    /// `__dma_release_from_coherent` for a buffer of `order` at `device_address`.
    pub fn release(&mut self, order: u32, device_address: u64) {
        let page = ((device_address - self.device_base) >> 12) as u32;
        self.release_region(page, order);
    }

    /// `bitmap_find_free_region`: tries aligned positions from 0, taking the first free one.
    pub fn find_free_region(&mut self, order: u32) -> Option<u32> {
        let mut pos = 0u32;
        loop {
            let end = pos + (1 << order);
            if end > self.size {
                return None;
            }
            if self.allocate_region(pos, order) {
                return Some(pos);
            }
            pos = end;
        }
    }

    /// `bitmap_allocate_region`: takes the region if no bit in it is set.
    fn allocate_region(&mut self, pos: u32, order: u32) -> bool {
        let len = 1u32 << order;
        if self.find_next_bit(pos + len, pos) < pos + len {
            return false;
        }
        self.set(pos, len);
        true
    }

    /// `bitmap_release_region`.
    pub fn release_region(&mut self, pos: u32, order: u32) {
        self.clear(pos, 1 << order);
    }

    /// `find_next_bit(addr, size, offset)` (the generic `FIND_NEXT_BIT`).
    fn find_next_bit(&self, size: u32, offset: u32) -> u32 {
        if offset >= size {
            return size;
        }
        let mut index = (offset / BITS_PER_LONG) as usize;
        let mut word = self.bitmap[index] & first_word_mask(offset);
        while word == 0 {
            index += 1;
            if index as u32 * BITS_PER_LONG >= size {
                return size;
            }
            word = self.bitmap[index];
        }
        (index as u32 * BITS_PER_LONG + word.trailing_zeros()).min(size)
    }

    /// `__bitmap_set(map, start, len)`.
    pub fn set(&mut self, start: u32, len: u32) {
        let mut index = (start / BITS_PER_LONG) as usize;
        let size = start + len;
        let mut len = len as i64;
        let mut bits_to_set = i64::from(BITS_PER_LONG - start % BITS_PER_LONG);
        let mut mask = first_word_mask(start);
        while len - bits_to_set >= 0 {
            self.bitmap[index] |= mask;
            len -= bits_to_set;
            bits_to_set = i64::from(BITS_PER_LONG);
            mask = !0;
            index += 1;
        }
        if len != 0 {
            mask &= last_word_mask(size);
            self.bitmap[index] |= mask;
        }
    }

    /// `__bitmap_clear(map, start, len)`.
    fn clear(&mut self, start: u32, len: u32) {
        let mut index = (start / BITS_PER_LONG) as usize;
        let size = start + len;
        let mut len = len as i64;
        let mut bits_to_clear = i64::from(BITS_PER_LONG - start % BITS_PER_LONG);
        let mut mask = first_word_mask(start);
        while len - bits_to_clear >= 0 {
            self.bitmap[index] &= !mask;
            len -= bits_to_clear;
            bits_to_clear = i64::from(BITS_PER_LONG);
            mask = !0;
            index += 1;
        }
        if len != 0 {
            mask &= last_word_mask(size);
            self.bitmap[index] &= !mask;
        }
    }

    /// Allocated pages.
    pub fn used_pages(&self) -> u64 {
        self.bitmap
            .iter()
            .map(|word| u64::from(word.count_ones()))
            .sum()
    }
}

/// `get_order(size)`: log2 of the power-of-two page count holding `size` bytes.
pub fn get_order(size_bytes: u64) -> u32 {
    let pages = size_bytes.div_ceil(4096).max(1);
    pages.next_power_of_two().trailing_zeros()
}
