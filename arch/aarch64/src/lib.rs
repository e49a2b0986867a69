//! Everything in coherent that is specific to the aarch64 CPU.
#![cfg_attr(not(test), no_std)]
pub mod paging;
