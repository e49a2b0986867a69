//! User memory is an allegation: every pointer a system call receives becomes a
//! [`UserSlice`], and every byte the kernel reads or writes there goes through it.
//!
//! Making one checks only arithmetic (the range lies in the user half and does not
//! overflow, `kernel_core::ranges::user_range_ok`); each copy then checks that its bytes are
//! mapped for user mode — writable too for a copy out — in the running process's live
//! tables, under the process table's lock, and copies at once. So nothing holds a `&[u8]`
//! into user memory across a call, and a mapping that disappears while the call was parked
//! (its lender exited and it was revoked) is `EFAULT`, never a kernel fault. The address is
//! only ever dereferenced in the running process's own address space, which is the active
//! one whenever a system call runs (Hubris `USlice`, Redox `UserSlice`).

use crate::object::{Sink, Source};
use crate::process;
use alloc::string::String;
use alloc::vec::Vec;
use kernel_core::layout::USER_TOP;
use kernel_core::ranges::user_range_ok;
use kernel_core::Error;

/// A range of the calling process's memory: `length` bytes at `address`.
#[derive(Clone, Copy, Debug)]
pub struct UserSlice {
    address: usize,
    length: usize,
}

/// What a copy needs of the pages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

impl UserSlice {
    /// `[address, address + length)`, if it lies in the user half without overflow
    /// (`EFAULT` otherwise). An empty range is fine anywhere: nothing is ever copied.
    pub fn new(address: usize, length: usize) -> Result<Self, Error> {
        if length == 0 {
            return Ok(UserSlice { address, length });
        }
        user_range_ok(address as u64, length as u64, USER_TOP).map_err(|_| Error::BadAddress)?;
        Ok(UserSlice { address, length })
    }

    /// The `size_of::<T>()` bytes at `address`.
    pub fn of<T>(address: usize) -> Result<Self, Error> {
        Self::new(address, core::mem::size_of::<T>())
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.length
    }

    /// Checks now that the whole range is mapped readable, so a call can refuse with
    /// `EFAULT` before it changes anything.
    pub fn check_readable(&self) -> Result<(), Error> {
        self.with_checked(0, self.length, Access::Read, |_| ())
    }

    /// Checks now that the whole range is mapped writable.
    pub fn check_writable(&self) -> Result<(), Error> {
        self.with_checked(0, self.length, Access::Write, |_| ())
    }

    /// Runs `body` on the address of `[offset, offset + length)` of this range after
    /// checking those bytes in the running process's tables, holding the process table's
    /// lock so they cannot change in between.
    fn with_checked<R>(
        &self,
        offset: usize,
        length: usize,
        access: Access,
        body: impl FnOnce(usize) -> R,
    ) -> Result<R, Error> {
        let end = offset.checked_add(length).ok_or(Error::InvalidArgument)?;
        if end > self.length {
            return Err(Error::InvalidArgument);
        }
        let address = self.address + offset;
        process::with(|table| {
            if length > 0 {
                let space = table.running().space.as_ref().ok_or(Error::BadAddress)?;
                space
                    .check(address as u64, length as u64, access == Access::Write)
                    .map_err(|_| Error::BadAddress)?;
            }
            Ok(body(address))
        })
    }

    /// Copies bytes `[offset, offset + into.len())` of the range into `into`.
    pub fn copy_to_kernel(&self, offset: usize, into: &mut [u8]) -> Result<(), Error> {
        self.with_checked(offset, into.len(), Access::Read, |address| {
            if !into.is_empty() {
                // SAFETY: `with_checked` found every byte mapped readable for user mode in
                // the running process's space, which is the active one, and holds the
                // process table's lock (nothing unmaps it meanwhile); `into` is kernel
                // memory, which user memory never overlaps.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        address as *const u8,
                        into.as_mut_ptr(),
                        into.len(),
                    )
                }
            }
        })
    }

    /// Copies `bytes` to `offset` in the range.
    pub fn copy_from_kernel(&self, offset: usize, bytes: &[u8]) -> Result<(), Error> {
        self.with_checked(offset, bytes.len(), Access::Write, |address| {
            if !bytes.is_empty() {
                // SAFETY: as in `copy_to_kernel`, with every byte writable for user mode.
                unsafe {
                    core::ptr::copy_nonoverlapping(bytes.as_ptr(), address as *mut u8, bytes.len())
                }
            }
        })
    }

    /// The whole range copied into a new buffer the heap may refuse (`ENOMEM`).
    pub fn read_vec(self) -> Result<Vec<u8>, Error> {
        crate::object::read_all(&self, self.length)
    }

    /// The range as UTF-8 text; `EINVAL` if it is longer than `limit` or not UTF-8.
    pub fn read_string(self, limit: usize) -> Result<String, Error> {
        if self.length > limit {
            return Err(Error::InvalidArgument);
        }
        String::from_utf8(self.read_vec()?).map_err(|_| Error::InvalidArgument)
    }
}

/// Plain data a system call may copy in and out: `repr(C)` structs of integers, for which
/// every bit pattern is a value.
///
/// # Safety
/// Implement only for types with no padding-dependent invariants, no pointers and no
/// invalid bit patterns.
pub unsafe trait Plain: Copy {}

// SAFETY: each is a `repr(C)` struct of integers from `redox_syscall` or `kernel_core::abi`.
unsafe impl Plain for redox_syscall::data::TimeSpec {}
// SAFETY: a `repr(C)` struct of integers and `MapFlags`, a bitflags wrapper of a `usize`
// that holds any bits (unknown ones are refused later, by meaning).
unsafe impl Plain for redox_syscall::data::Map {}
// SAFETY: as above.
unsafe impl Plain for redox_syscall::data::Stat {}
// SAFETY: as above.
unsafe impl Plain for kernel_core::abi::SpawnRights {}
// SAFETY: an integer.
unsafe impl Plain for u64 {}

/// Reads a `T` at `address` of the caller's.
pub fn read<T: Plain>(address: usize) -> Result<T, Error> {
    let slice = UserSlice::of::<T>(address)?;
    slice.with_checked(0, slice.len(), Access::Read, |address| {
        // SAFETY: `size_of::<T>()` bytes at `address` are mapped readable in the active
        // space (checked under the lock); `T: Plain` accepts any bits; read unaligned.
        unsafe { (address as *const T).read_unaligned() }
    })
}

/// Writes `value` at `address` of the caller's.
pub fn write<T: Plain>(address: usize, value: T) -> Result<(), Error> {
    let slice = UserSlice::of::<T>(address)?;
    slice.with_checked(0, slice.len(), Access::Write, |address| {
        // SAFETY: `size_of::<T>()` bytes at `address` are mapped writable in the active
        // space (checked under the lock); written unaligned.
        unsafe { (address as *mut T).write_unaligned(value) }
    })
}

impl Source for UserSlice {
    fn len(&self) -> usize {
        self.length
    }

    fn copy_to(&self, offset: usize, into: &mut [u8]) -> Result<(), Error> {
        self.copy_to_kernel(offset, into)
    }
}

impl Sink for UserSlice {
    fn len(&self) -> usize {
        self.length
    }

    fn copy_from(&mut self, offset: usize, bytes: &[u8]) -> Result<(), Error> {
        self.copy_from_kernel(offset, bytes)
    }
}
