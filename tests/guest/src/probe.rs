//! Raw memory probes: one load, store or call at an arbitrary address, in assembly so the
//! access happens exactly once and the compiler reasons about nothing.
//!
//! A probe of memory the process may not use must fault, and the kernel then kills the
//! process; the programs that use these exist to be killed.

use core::arch::asm;
use kernel_core::layout::LINEAR_MAP_BASE;

/// A physical address that is RAM on the QEMU machine this CPU boots on (`q35`'s RAM starts
/// at 0, `virt`'s at 1 GiB), 2 MiB in.
pub const RAM_ADDRESS: u64 = if cfg!(target_arch = "aarch64") {
    0x4020_0000
} else {
    0x20_0000
};

/// Where the kernel's linear map shows [`RAM_ADDRESS`]: kernel memory that is mapped.
pub const KERNEL_ADDRESS: usize = (LINEAR_MAP_BASE + RAM_ADDRESS) as usize;

/// A user-half address no program maps (1 TiB up, far from image, heap and stack).
pub const UNMAPPED_USER_ADDRESS: usize = 0x1000_0000_0000;

/// Loads the 64-bit word at `address`.
///
/// # Safety
///
/// Reads memory the compiler does not know about; if `address` is not readable the process
/// is killed (which is what callers want).
pub unsafe fn load(address: usize) -> u64 {
    let value: u64;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the caller accepts the access (and its fault); nothing else is touched.
    unsafe {
        asm!("mov {value}, qword ptr [{address}]", address = in(reg) address,
             value = lateout(reg) value, options(nostack, readonly));
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: the caller accepts the access (and its fault); nothing else is touched.
    unsafe {
        asm!("ldr {value}, [{address}]", address = in(reg) address,
             value = lateout(reg) value, options(nostack, readonly));
    }
    value
}

/// Stores `value` as a 64-bit word at `address`.
///
/// # Safety
///
/// Writes memory the compiler does not know about: `address` must not hold anything the
/// program relies on; if it is not writable the process is killed.
pub unsafe fn store(address: usize, value: u64) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the caller accepts the write (and its fault).
    unsafe {
        asm!("mov qword ptr [{address}], {value}", address = in(reg) address,
             value = in(reg) value, options(nostack));
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: the caller accepts the write (and its fault).
    unsafe {
        asm!("str {value}, [{address}]", address = in(reg) address,
             value = in(reg) value, options(nostack));
    }
}

/// Calls the code at `address` as a function taking and returning nothing.
///
/// # Safety
///
/// `address` must hold code that returns without breaking any register convention, or not
/// be executable (and then the process is killed).
pub unsafe fn call(address: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the caller vouches for the code or accepts the fault.
    unsafe {
        asm!("call {address}", address = in(reg) address, clobber_abi("C"));
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: the caller vouches for the code or accepts the fault.
    unsafe {
        asm!("blr {address}", address = in(reg) address, clobber_abi("C"));
    }
}

/// One return instruction, little-endian: `ret` (x86_64 `C3`, aarch64 `D65F03C0`).
pub const RETURN_INSTRUCTION: u32 = if cfg!(target_arch = "aarch64") {
    0xD65F_03C0
} else {
    0x0000_00C3
};
