//! User memory is an allegation: every pointer a system call receives is checked against the
//! caller's live page tables before the kernel reads or writes through it.
//!
//! The kernel is not preempted and runs on one CPU, so a range checked here stays mapped
//! until the system call returns; the slices handed out must not outlive the call.

use crate::process;
use redox_syscall::error::{EFAULT, EINVAL};

/// Checks `[address, address + length)` for the running process (`write`: writable too).
fn check(address: usize, length: usize, write: bool) -> Result<(), i32> {
    process::with(|table| {
        let space = table.running().space.as_ref().ok_or(EFAULT)?;
        space
            .check(address as u64, length as u64, write)
            .map_err(|_| EFAULT)
    })
}

/// The caller's bytes at `[address, address + length)`, readable.
pub fn bytes<'call>(address: usize, length: usize) -> Result<&'call [u8], i32> {
    if length == 0 {
        return Ok(&[]);
    }
    check(address, length, false)?;
    // SAFETY: the whole range is mapped for user mode in the active address space (checked
    // above) and stays mapped for the rest of this system call.
    Ok(unsafe { core::slice::from_raw_parts(address as *const u8, length) })
}

/// The caller's bytes at `[address, address + length)`, writable.
pub fn bytes_mut<'call>(address: usize, length: usize) -> Result<&'call mut [u8], i32> {
    if length == 0 {
        return Ok(&mut []);
    }
    check(address, length, true)?;
    // SAFETY: as for `bytes`, and the range is writable for user mode.
    Ok(unsafe { core::slice::from_raw_parts_mut(address as *mut u8, length) })
}

/// A UTF-8 string of the caller's; EINVAL if it is not UTF-8 or longer than `limit`.
pub fn string<'call>(address: usize, length: usize, limit: usize) -> Result<&'call str, i32> {
    if length > limit {
        return Err(EINVAL);
    }
    core::str::from_utf8(bytes(address, length)?).map_err(|_| EINVAL)
}

/// Reads a plain-data value of the caller's.
pub fn read<T: Copy>(address: usize) -> Result<T, i32> {
    let source = bytes(address, core::mem::size_of::<T>())?;
    // SAFETY: `source` is exactly `size_of::<T>()` checked bytes; `T` is plain data (every
    // caller passes `repr(C)` integer structs), read unaligned.
    Ok(unsafe { (source.as_ptr() as *const T).read_unaligned() })
}

/// Writes a plain-data value to the caller's memory.
pub fn write<T: Copy>(address: usize, value: T) -> Result<(), i32> {
    let target = bytes_mut(address, core::mem::size_of::<T>())?;
    // SAFETY: `target` is exactly `size_of::<T>()` checked, writable bytes.
    unsafe { (target.as_mut_ptr() as *mut T).write_unaligned(value) };
    Ok(())
}
