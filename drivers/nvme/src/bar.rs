//! The controller's registers: BAR0 mapped through `device:`, read and written as volatile
//! 32-bit words (64-bit registers as two words, low first, which the specification allows).

use core::ptr::NonNull;

/// The mapped register window.
pub struct Bar {
    base: NonNull<u32>,
    size: usize,
}

impl Bar {
    /// Wraps the mapping of BAR0 at `base`, `size` bytes.
    ///
    /// # Safety
    ///
    /// `base` must be a 4-byte aligned device-memory mapping of the controller's registers,
    /// `size` bytes long, valid for the life of the program and used by nothing else.
    pub unsafe fn new(base: NonNull<u8>, size: usize) -> Self {
        Bar {
            base: base.cast(),
            size,
        }
    }

    fn word(&self, offset: usize) -> NonNull<u32> {
        assert!(
            offset.is_multiple_of(4) && offset + 4 <= self.size,
            "register {offset:#x} outside the {:#x}-byte BAR",
            self.size
        );
        // SAFETY: `offset / 4` words from the start stay inside the mapping (checked above).
        unsafe { self.base.add(offset / 4) }
    }

    /// Reads the 32-bit register at `offset`.
    ///
    /// # Panics
    ///
    /// If `offset` is misaligned or outside the BAR (a driver bug).
    pub fn read32(&self, offset: usize) -> u32 {
        // SAFETY: an aligned word inside the mapped registers (see `new` and `word`).
        unsafe { self.word(offset).as_ptr().read_volatile() }
    }

    /// Writes the 32-bit register at `offset`.
    ///
    /// # Panics
    ///
    /// As [`Bar::read32`].
    pub fn write32(&self, offset: usize, value: u32) {
        // SAFETY: an aligned word inside the mapped registers (see `new` and `word`).
        unsafe { self.word(offset).as_ptr().write_volatile(value) }
    }

    /// Reads the 64-bit register at `offset`.
    pub fn read64(&self, offset: usize) -> u64 {
        u64::from(self.read32(offset)) | u64::from(self.read32(offset + 4)) << 32
    }

    /// Writes the 64-bit register at `offset`, low word first.
    pub fn write64(&self, offset: usize, value: u64) {
        self.write32(offset, value as u32);
        self.write32(offset + 4, (value >> 32) as u32);
    }
}
