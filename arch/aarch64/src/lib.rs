//! Everything in coherent that is specific to the aarch64 CPU.
//!
//! Boot as a Linux arm64 Image on QEMU `virt` (EL2 → EL1, FP/SIMD, early MMU), the PL011
//! console, the exception vector table and reports, semihosting / PSCI power-off. The crate
//! presents [`Aarch64`], an implementation of [`kernel_core::Arch`], under the same names
//! the x86_64 crate uses. The bare-metal parts only build for `target_os = "none"`; the pure
//! parts (descriptor encoding) also build on the host so `cargo test` reaches them.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod paging;

#[cfg(target_os = "none")]
mod boot;
#[cfg(target_os = "none")]
mod early;
#[cfg(target_os = "none")]
mod entry;
#[cfg(target_os = "none")]
mod probe;
#[cfg(target_os = "none")]
mod serial;
#[cfg(target_os = "none")]
pub mod trap;

#[cfg(target_os = "none")]
mod platform;
#[cfg(target_os = "none")]
pub use platform::*;
