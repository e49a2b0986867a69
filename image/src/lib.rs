//! coherent's boot image: initfs archive, manifest and platform description.
//!
//! The kernel uses the parsers here at early boot, before it has a heap, so every parser is
//! `no_std`, allocates nothing and borrows from its input. The builders that `xtask` uses on
//! the host to make images sit behind the `std` feature.
//!
//! - [`initfs`]: the cpio "newc" archive loaded as the initrd ([`initfs::Archive`], and
//!   [`initfs::Builder`] with `std`);
//! - [`manifest`]: `manifest.toml` at the initfs root, a TOML subset with typed views of the
//!   image, its DMA pools and the processes init starts;
//! - [`platform`]: the flattened device tree (RAM, initrd, `/reserved-memory` pools, device
//!   lookup, pool placement), and with `std` the augmentation of QEMU's tree;
//! - [`pool`]: the pool declaration both the manifest and the device tree produce.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]

pub mod initfs;
pub mod manifest;
pub mod platform;
pub mod pool;
