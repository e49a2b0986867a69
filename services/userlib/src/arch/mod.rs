//! The one place userlib picks its CPU: program entry (`_start`), the cycle counter (and a calibration loop of known length) and
//! the DMA memory barriers are the only things that differ between x86_64 and aarch64
//! user programs.

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "x86_64")]
mod x86_64;

#[cfg(target_arch = "aarch64")]
pub use aarch64::*;
#[cfg(target_arch = "x86_64")]
pub use x86_64::*;
