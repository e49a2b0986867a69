//! Everything in coherent that is specific to the aarch64 CPU.
//!
//! Boot as a Linux arm64 Image on QEMU `virt` (EL2 → EL1, FP/SIMD, early MMU), the PL011
//! console, the exception vector table and reports, semihosting / PSCI power-off, and user
//! mode: EL0 entry and traps, kernel context switches, the generic timer through a GICv2 or
//! GICv3. Where those devices are comes from the kernel's machine description
//! (`Arch::use_machine`, read from the device tree); QEMU `virt`'s addresses are only the
//! documented fallback (`Arch::machine_defaults`). System registers and barriers go through
//! the `aarch64-cpu` crate; each inline-assembly block left says why no crate covers it.
//! The crate presents [`Aarch64`], an implementation of [`kernel_core::Arch`] and
//! [`kernel_core::user_mode::UserMode`], under the same names the x86_64 crate uses. The
//! bare-metal parts only build for `target_os = "none"`; the pure parts (descriptor encoding,
//! exception syndromes) also build on the host so `cargo test` reaches them.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod fault;
pub mod paging;

#[cfg(target_os = "none")]
mod boot;
#[cfg(target_os = "none")]
mod context;
#[cfg(target_os = "none")]
mod device_interrupts;
#[cfg(target_os = "none")]
mod early;
#[cfg(target_os = "none")]
mod entry;
#[cfg(target_os = "none")]
mod gic;
#[cfg(target_os = "none")]
mod interrupt;
#[cfg(target_os = "none")]
mod probe;
#[cfg(target_os = "none")]
mod random;
#[cfg(target_os = "none")]
mod serial;
#[cfg(target_os = "none")]
mod smp;
#[cfg(target_os = "none")]
mod timer;
#[cfg(target_os = "none")]
pub mod trap;
#[cfg(target_os = "none")]
mod user;
#[cfg(target_os = "none")]
mod user_copy;
#[cfg(target_os = "none")]
mod user_mode;
#[cfg(target_os = "none")]
mod vectors;

#[cfg(target_os = "none")]
mod dma_sync;
#[cfg(target_os = "none")]
mod platform;
#[cfg(target_os = "none")]
pub use platform::*;
#[cfg(target_os = "none")]
pub use {context::Context, user::UserFrame};
