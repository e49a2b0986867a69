//! The `disk:` interface checks shared by the `virtio-blk` and `nvme` suites: whole-disk
//! pattern reads, the range the host checks afterwards, and refused requests, each on a
//! scheme name.
#![no_std]

extern crate alloc;

pub mod pattern;
