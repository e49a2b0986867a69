//! The `disk:` interface checks shared by the `virtio-blk` and `nvme` suites: whole-disk
//! pattern reads, the range the host checks afterwards, and refused requests, each on a
//! scheme name; starting drivers (one that dies mid-I/O, then a fresh one); and the random sequence their mixed-request tests draw from.
#![no_std]

extern crate alloc;

pub mod driver_under_test;
pub mod pattern;
pub mod quiesce;

/// A small deterministic random sequence (xorshift64), so a failing run repeats exactly.
pub struct XorShift(pub u64);

impl XorShift {
    /// The next value; the seed must not be 0.
    pub fn next_value(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
