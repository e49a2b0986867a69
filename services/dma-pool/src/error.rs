//! The one error type of the pool registry; each variant is exactly one Redox errno.
//!
//! | variant | errno | meaning |
//! | --- | --- | --- |
//! | [`UnknownDevice`](PoolError::UnknownDevice) | `ENOENT` | no pool serves that device |
//! | [`InvalidRequest`](PoolError::InvalidRequest) | `EINVAL` | malformed request or declaration (reason attached) |
//! | [`OutOfMemory`](PoolError::OutOfMemory) | `ENOMEM` | no aligned run of that size is free, or a bookkeeping table is full |
//! | [`NotGranted`](PoolError::NotGranted) | `EACCES` | the process may not use that device (dmad's grant check) |
//! | [`OverQuota`](PoolError::OverQuota) | `EDQUOT` | the owner's or the device's page quota would be exceeded |
//! | [`BadHandle`](PoolError::BadHandle) | `EBADF` | stale handle, another owner's buffer, or not the start of a live buffer |
//! | [`Busy`](PoolError::Busy) | `EBUSY` | retiring a pool that still has buffers or mappings |
//!
//! A declaration that overlaps another pool, falls outside every reserved region or names a
//! device that already has a pool is malformed (`EINVAL`), not busy: nothing the caller waits
//! for will make it succeed. Every error leaves every pool exactly as it was; the only thing
//! an error may change is a pool's `failed_allocations` counter.

use core::fmt;

/// Why a pool operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolError {
    /// No pool serves that device (`ENOENT`).
    UnknownDevice,
    /// The request or declaration is malformed (`EINVAL`); the reason says how.
    InvalidRequest(&'static str),
    /// No suitably aligned run of pages is free, or the pool's buffer table or the registry's
    /// owner table is full (`ENOMEM`).
    OutOfMemory,
    /// The process is not granted that device (`EACCES`). The registry never returns this;
    /// dmad checks grants before calling it and reports refusals with this variant.
    NotGranted,
    /// The allocation would exceed the owner's or the device's page quota (`EDQUOT`).
    OverQuota,
    /// The handle is stale (already released, or its pool retired), belongs to another owner,
    /// or the address is not the start of a live buffer (`EBADF`).
    BadHandle,
    /// The pool still has live buffers or mapped released buffers (`EBUSY`).
    Busy,
}

impl PoolError {
    /// The Redox errno this error stands for, by name (dmad maps the name to the number
    /// through `redox_syscall`; this crate depends on nothing).
    pub const fn errno_name(self) -> &'static str {
        match self {
            PoolError::UnknownDevice => "ENOENT",
            PoolError::InvalidRequest(_) => "EINVAL",
            PoolError::OutOfMemory => "ENOMEM",
            PoolError::NotGranted => "EACCES",
            PoolError::OverQuota => "EDQUOT",
            PoolError::BadHandle => "EBADF",
            PoolError::Busy => "EBUSY",
        }
    }

    /// A short explanation for logs.
    pub const fn reason(self) -> &'static str {
        match self {
            PoolError::UnknownDevice => "no pool serves that device",
            PoolError::InvalidRequest(reason) => reason,
            PoolError::OutOfMemory => "no suitable free pages",
            PoolError::NotGranted => "device not granted to this process",
            PoolError::OverQuota => "page quota exceeded",
            PoolError::BadHandle => "not a live buffer of this owner",
            PoolError::Busy => "pool has live buffers or mappings",
        }
    }
}

impl fmt::Display for PoolError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} ({})", self.reason(), self.errno_name())
    }
}

impl core::error::Error for PoolError {}
