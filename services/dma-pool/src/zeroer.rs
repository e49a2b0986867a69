//! The zeroing seam: the pool says what to zero, dmad zeroes it through its WC mapping.

/// Zeroes freshly allocated pool memory. The registry calls [`zero`](Zeroer::zero) exactly once
/// per successful allocation, covering the whole buffer, after every check has passed and
/// before returning; never for a refused allocation.
pub trait Zeroer {
    /// Fills `len` bytes at physical address `phys` with zeroes.
    fn zero(&mut self, phys: u64, len: u64);
}

impl<F: FnMut(u64, u64)> Zeroer for F {
    fn zero(&mut self, phys: u64, len: u64) {
        self(phys, len)
    }
}
