//! The scheme's errors: each Redox errno has one meaning.
//!
//! The numbers are Redox's (`redox_syscall::error`), repeated here so the crate depends on
//! nothing; dmad's tests check they agree.

/// Why dmad refused a request. A refused request changes no pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DmaError {
    /// `ENOENT`: no pool serves that device (or no such path).
    UnknownDevice,
    /// `EINVAL`: malformed request (path, size, alignment, map range, declaration).
    Invalid,
    /// `ENOMEM`: the pool has no suitably aligned free run (or a table is full).
    OutOfMemory,
    /// `EACCES`: the process is not granted that device, or the request is init's alone.
    NotGranted,
    /// `EDQUOT`: the process's or the device's page quota would be exceeded.
    OverQuota,
    /// `EBADF`: not a buffer of this process.
    BadHandle,
    /// `EBUSY`: the pool has live buffers or mappings.
    Busy,
    /// `EMFILE`: the process holds as many `dma:` handles as dmad allows one process.
    TooManyHandles,
    /// `ENFILE`: dmad holds as many handles, of all processes together, as it allows.
    HandleTableFull,
    /// `EAGAIN`: dmad serves as many processes as it keeps records for; try again once
    /// another has closed its handles.
    TooManyClients,
}

impl DmaError {
    /// Every error, for tables and tests.
    pub const ALL: [DmaError; 10] = [
        DmaError::UnknownDevice,
        DmaError::Invalid,
        DmaError::OutOfMemory,
        DmaError::NotGranted,
        DmaError::OverQuota,
        DmaError::BadHandle,
        DmaError::Busy,
        DmaError::TooManyHandles,
        DmaError::HandleTableFull,
        DmaError::TooManyClients,
    ];

    /// The Redox errno number.
    pub const fn errno(self) -> i32 {
        match self {
            DmaError::UnknownDevice => 2,
            DmaError::Invalid => 22,
            DmaError::OutOfMemory => 12,
            DmaError::NotGranted => 13,
            DmaError::OverQuota => 122,
            DmaError::BadHandle => 9,
            DmaError::Busy => 16,
            DmaError::TooManyHandles => 24,
            DmaError::HandleTableFull => 23,
            DmaError::TooManyClients => 11,
        }
    }

    /// The errno's name, e.g. `"EDQUOT"`.
    pub const fn name(self) -> &'static str {
        match self {
            DmaError::UnknownDevice => "ENOENT",
            DmaError::Invalid => "EINVAL",
            DmaError::OutOfMemory => "ENOMEM",
            DmaError::NotGranted => "EACCES",
            DmaError::OverQuota => "EDQUOT",
            DmaError::BadHandle => "EBADF",
            DmaError::Busy => "EBUSY",
            DmaError::TooManyHandles => "EMFILE",
            DmaError::HandleTableFull => "ENFILE",
            DmaError::TooManyClients => "EAGAIN",
        }
    }

    /// What the errno means on this scheme.
    pub const fn meaning(self) -> &'static str {
        match self {
            DmaError::UnknownDevice => "unknown device",
            DmaError::Invalid => "malformed request",
            DmaError::OutOfMemory => "pool exhausted",
            DmaError::NotGranted => "process not granted that device",
            DmaError::OverQuota => "over its quota",
            DmaError::BadHandle => "not a buffer of this process",
            DmaError::Busy => "pool in use",
            DmaError::TooManyHandles => "too many dma: handles in this process",
            DmaError::HandleTableFull => "dmad's handle table is full",
            DmaError::TooManyClients => "dmad serves too many processes",
        }
    }

    /// The error an errno number stands for, if it is one of the scheme's.
    pub fn from_errno(errno: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|error| error.errno() == errno)
    }

    /// The error an errno name stands for (as `dma_pool::PoolError::errno_name` gives it).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|error| error.name() == name)
    }
}

impl core::fmt::Display for DmaError {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(formatter, "{} ({})", self.meaning(), self.name())
    }
}
