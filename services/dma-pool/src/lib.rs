//! Per-device coherent DMA pool logic for dmad.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod space;
mod summary;
