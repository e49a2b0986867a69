//! User memory is an allegation: every pointer a system call receives becomes a
//! [`UserSlice`], and every byte the kernel reads or writes there goes through it.
//!
//! Making one checks only arithmetic (the range lies in the user half and does not
//! overflow, `kernel_core::ranges::user_range_ok`). The copy itself is the check: it runs
//! through the arch's user-copy routine (`Arch::copy_user`), whose loads and stores are in
//! an exception table, so a page that is not mapped for user mode — or not writable, for a
//! copy out — when the copy touches it makes the copy return `EFAULT` instead of faulting
//! the kernel. There is no check-then-use window: another thread of the process may unmap
//! the memory at any moment (on another CPU), and a mapping revoked while the call was
//! parked is `EFAULT` too. No `&[u8]` into user memory is ever made, and no lock is held
//! while copying. The address is only ever dereferenced in the running process's own
//! address space, which is the active one whenever a system call runs (Hubris `USlice`,
//! Redox `UserSlice`, Linux's `copy_from_user` with its `__ex_table`).
//!
//! [`UserSlice::check_in`] and [`UserSlice::check_writable`] still look at the live
//! tables, for calls that want to refuse before they change anything; they are a courtesy,
//! not the safety net. A test kernel can switch them off (`sys:` `user-precheck-off`) to prove
//! that the copy's own fault recovery answers `EFAULT`.

use crate::arch::{Arch, Cpu};
use crate::object::{Sink, Source};
use crate::process;
use alloc::string::String;
use alloc::vec::Vec;
use core::mem::size_of;
use kernel_core::layout::USER_TOP;
use kernel_core::ranges::user_range_ok;
use kernel_core::Error;

/// A range of the calling process's memory: `length` bytes at `address`.
#[derive(Clone, Copy, Debug)]
pub struct UserSlice {
    address: usize,
    length: usize,
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

    /// Checks now that the whole range is mapped writable, so a call can refuse with
    /// `EFAULT` before it changes anything (the copies check again by doing).
    pub fn check_writable(&self) -> Result<(), Error> {
        process::with(|table| self.check_in(table.running_process(), true))
    }

    /// Checks now that the whole range is mapped readable (with `write`, writable) in
    /// `process`, the running process, whose entry the caller already holds (so a system
    /// call looks it up once for its descriptor and its buffer).
    pub fn check_in(&self, process: &process::Process, write: bool) -> Result<(), Error> {
        if self.length == 0 || !crate::test_hooks::user_precheck() {
            return Ok(());
        }
        let space = process.space.as_ref().ok_or(Error::BadAddress)?;
        space
            .check(self.address as u64, self.length as u64, write)
            .map_err(|_| Error::BadAddress)
    }

    /// The user address of `[offset, offset + length)` of this range (`EINVAL` past its
    /// end).
    fn part(&self, offset: usize, length: usize) -> Result<usize, Error> {
        let end = offset.checked_add(length).ok_or(Error::InvalidArgument)?;
        if end > self.length {
            return Err(Error::InvalidArgument);
        }
        Ok(self.address + offset)
    }

    /// Copies bytes `[offset, offset + into.len())` of the range into `into`; `EFAULT` if
    /// a byte is not mapped readable when the copy reaches it.
    pub fn copy_to_kernel(&self, offset: usize, into: &mut [u8]) -> Result<(), Error> {
        let address = self.part(offset, into.len())?;
        // SAFETY: the source lies in the user half of the active space (checked when the
        // slice was made, and `part` keeps inside it); a fault there is recovered by the
        // arch's exception table. `into` is kernel memory, which user memory never overlaps.
        let copied = unsafe { Cpu::copy_user(into.as_mut_ptr(), address as *const u8, into.len()) };
        copied.then_some(()).ok_or(Error::BadAddress)
    }

    /// Copies `bytes` to `offset` in the range; `EFAULT` if a byte is not mapped writable
    /// when the copy reaches it (some bytes before it may have been written).
    pub fn copy_from_kernel(&self, offset: usize, bytes: &[u8]) -> Result<(), Error> {
        let address = self.part(offset, bytes.len())?;
        // SAFETY: as in `copy_to_kernel`, the other way round.
        let copied = unsafe { Cpu::copy_user(address as *mut u8, bytes.as_ptr(), bytes.len()) };
        copied.then_some(()).ok_or(Error::BadAddress)
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
    let mut value = core::mem::MaybeUninit::<T>::zeroed();
    // SAFETY: `MaybeUninit<T>` is `size_of::<T>()` bytes, zeroed, so viewing it as bytes is
    // sound; the copy overwrites them.
    let bytes =
        unsafe { core::slice::from_raw_parts_mut(value.as_mut_ptr().cast::<u8>(), size_of::<T>()) };
    slice.copy_to_kernel(0, bytes)?;
    // SAFETY: every byte was written by the copy (or is the zero it started as), and
    // `T: Plain` accepts any bits.
    Ok(unsafe { value.assume_init() })
}

/// Writes `value` at `address` of the caller's.
pub fn write<T: Plain>(address: usize, value: T) -> Result<(), Error> {
    let slice = UserSlice::of::<T>(address)?;
    // SAFETY: `T: Plain` has no padding-dependent invariants; its bytes are plain data.
    let bytes =
        unsafe { core::slice::from_raw_parts((&value as *const T).cast::<u8>(), size_of::<T>()) };
    slice.copy_from_kernel(0, bytes)
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
