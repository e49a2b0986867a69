//! The zeroing seam: the pool says what to zero, dmad zeroes it through its WC mapping.

/// Zeroes freshly allocated pool memory. The registry calls it after every check has passed
/// and before returning, never for a refused allocation, covering the whole buffer exactly
/// once: one [`zero`](Zeroer::zero) call when poisoning is off; with poisoning on (see
/// `poison.rs`), one call per run of pages alike, in address order —
/// [`check_and_zero`](Zeroer::check_and_zero) for pages poisoned when they were freed,
/// `zero` for the others.
pub trait Zeroer {
    /// Fills `len` bytes at physical address `phys` with zeroes.
    fn zero(&mut self, phys: u64, len: u64);

    /// `len` bytes at `phys` were filled with [`POISON`](crate::POISON) when freed: checks
    /// that every 64-bit word still holds it (reporting the first that does not), then
    /// zeroes them. The default only zeroes.
    fn check_and_zero(&mut self, phys: u64, len: u64) {
        self.zero(phys, len);
    }
}

impl<F: FnMut(u64, u64)> Zeroer for F {
    fn zero(&mut self, phys: u64, len: u64) {
        self(phys, len)
    }
}
