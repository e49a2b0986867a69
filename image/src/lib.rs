//! coherent's boot image: initfs archive, manifest and platform description.
//!
//! The kernel uses the parsers here at early boot, before it has a heap, so every parser is
//! `no_std`, allocates nothing and borrows from its input. The builders that `xtask` uses on
//! the host to make images sit behind the `std` feature.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]

pub mod initfs;
pub mod manifest;
pub mod platform;
pub mod pool;
