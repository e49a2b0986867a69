//! The one place the kernel chooses its CPU port.
//!
//! Every other module names `arch::Cpu` (an implementation of [`kernel_core::Arch`]) and
//! never asks which CPU it is running on.

#[cfg(target_arch = "aarch64")]
pub use arch_aarch64::Aarch64 as Cpu;
#[cfg(target_arch = "x86_64")]
pub use arch_x86_64::X86_64 as Cpu;

pub use kernel_core::{Arch, ExitStatus};
