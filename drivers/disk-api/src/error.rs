//! The scheme's errors: each Redox errno has one meaning.
//!
//! The numbers are Redox's (`redox_syscall::error`), repeated here so the crate depends on
//! nothing.

/// Why the driver refused a request. A refused request moves no data and no position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DiskError {
    /// `ENOENT`: no such path in `disk:`.
    NotFound,
    /// `EINVAL`: an offset or length that is not a multiple of the sector size, an offset
    /// past the end of the disk, or a malformed call.
    Invalid,
    /// `ENOSPC`: a write at the end of the disk.
    NoSpace,
    /// `EROFS`: a write to a read-only device.
    ReadOnly,
    /// `EBADF`: not a handle of this scheme, or the wrong kind (a write to `disk:/size`).
    BadHandle,
    /// `EIO`: the device reported an error.
    Device,
}

impl DiskError {
    /// The Redox errno number.
    pub const fn errno(self) -> i32 {
        match self {
            DiskError::NotFound => 2,
            DiskError::Invalid => 22,
            DiskError::NoSpace => 28,
            DiskError::ReadOnly => 30,
            DiskError::BadHandle => 9,
            DiskError::Device => 5,
        }
    }
}
