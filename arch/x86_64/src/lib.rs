//! Everything in coherent that is specific to the x86_64 CPU.
//!
//! Boot through PVH (QEMU `q35`), the 16550 console, GDT/TSS, IDT and exception reports
//! (NMI, machine check, debug and double fault on their own guarded stacks), I/O ports and the
//! isa-debug-exit power-off; for user processes, `syscall`/`sysretq`, kernel-thread contexts,
//! the local APIC (x2APIC or xAPIC) timer and the monotonic clock (the TSC when invariant).
//!
//! Descriptor tables, model-specific and control registers, port I/O and TLB flushes go
//! through the `x86_64` crate (built without its nightly features). Hand-written assembly is
//! left only where no crate covers it — the PVH trampoline, the trap and `syscall` entry
//! stubs, the context switch and first entry to user mode, the probe's exception table, and
//! `wbinvd` — and each such block says why. The crate presents
//! [`X86_64`], an implementation of [`kernel_core::Arch`] and
//! [`kernel_core::user_mode::UserMode`], under the same names the aarch64 crate uses.
//! The bare-metal parts only build for `target_os = "none"`; the pure parts (descriptor
//! encoding) also build on the host so `cargo test` reaches them.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod paging;

#[cfg(target_os = "none")]
mod apic;
#[cfg(target_os = "none")]
mod boot;
#[cfg(target_os = "none")]
mod clock;
#[cfg(target_os = "none")]
mod context;
#[cfg(target_os = "none")]
pub mod cpu;
#[cfg(target_os = "none")]
mod device_interrupts;
#[cfg(target_os = "none")]
mod entry;
#[cfg(target_os = "none")]
pub mod gdt;
#[cfg(target_os = "none")]
mod interrupt_stacks;
#[cfg(target_os = "none")]
mod io_apic;
#[cfg(target_os = "none")]
pub mod port;
#[cfg(target_os = "none")]
mod probe;
#[cfg(target_os = "none")]
mod pvh;
#[cfg(target_os = "none")]
mod random;
#[cfg(target_os = "none")]
mod serial;
#[cfg(target_os = "none")]
mod smp;
#[cfg(target_os = "none")]
mod syscall;
#[cfg(target_os = "none")]
pub mod timer;
#[cfg(target_os = "none")]
pub mod trap;
#[cfg(target_os = "none")]
mod user_copy;

#[cfg(target_os = "none")]
mod user;

#[cfg(target_os = "none")]
mod dma_sync;
#[cfg(target_os = "none")]
mod platform;
#[cfg(target_os = "none")]
pub use context::Context;
#[cfg(target_os = "none")]
pub use platform::*;
#[cfg(target_os = "none")]
pub use user::UserFrame;
