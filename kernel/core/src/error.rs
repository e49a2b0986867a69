//! The kernel's typed errors: why a request was refused, kept as a type until the system-call
//! boundary turns it into a Redox errno with [`Error::errno`] (STYLE.md 12, Hubris `UserError`).
//!
//! Every variant blames the caller or its circumstances (a bad argument, a missing right, a
//! full table, an exhausted heap, a server that failed): the request changed nothing. A broken
//! kernel invariant is never an `Error`; it panics. Errnos come from `redox_syscall`, so each
//! variant has exactly one number and the two cannot drift apart.

use redox_syscall::error as errno;

/// Why the kernel refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// No such file, scheme, section, process (but see `NoSuchProcess`) or pending request
    /// (`ENOENT`).
    NotFound,
    /// No such process to kill (`ESRCH`, as `kill` answers).
    NoSuchProcess,
    /// The caller lacks the right (`EACCES`).
    AccessDenied,
    /// The caller may not do this at all, e.g. grant rights it lacks (`EPERM`).
    NotPermitted,
    /// A malformed argument (`EINVAL`).
    InvalidArgument,
    /// Not an open descriptor, or not one this operation applies to (`EBADF`).
    BadDescriptor,
    /// A user pointer that is not mapped with the rights the call needs (`EFAULT`).
    BadAddress,
    /// Out of kernel heap, frames, or a per-process mapping limit (`ENOMEM`).
    OutOfMemory,
    /// The caller's descriptor table is full (`EMFILE`).
    TooManyFiles,
    /// A bounded table is full for now, or numbers ran out; try later (`EAGAIN`).
    TryAgain,
    /// The name is taken (`EEXIST`).
    AlreadyExists,
    /// No child to wait for (`ECHILD`).
    NoChild,
    /// Not a loadable program (`ENOEXEC`).
    NotExecutable,
    /// The object has no position (`ESPIPE`).
    NotSeekable,
    /// No such system call (`ENOSYS`).
    NoSystemCall,
    /// The serving process failed or went away (`EIO`).
    Io,
    /// Someone else holds it (`EBUSY`): an `irq:` line has one holder.
    Busy,
    /// The device has no interrupt the kernel can route (`ENODEV`).
    NoDevice,
    /// The deadline passed before anything was ready (`ETIMEDOUT`).
    TimedOut,
    /// The caller was killed while it waited (`EINTR`); it dies on its way out.
    Interrupted,
    /// Any other errno, as a user-scheme server answered it (passed through unchanged).
    Server(u16),
}

/// Every named variant with its errno, in one table for both directions.
const TABLE: [(Error, i32); 20] = [
    (Error::NotFound, errno::ENOENT),
    (Error::NoSuchProcess, errno::ESRCH),
    (Error::AccessDenied, errno::EACCES),
    (Error::NotPermitted, errno::EPERM),
    (Error::InvalidArgument, errno::EINVAL),
    (Error::BadDescriptor, errno::EBADF),
    (Error::BadAddress, errno::EFAULT),
    (Error::OutOfMemory, errno::ENOMEM),
    (Error::TooManyFiles, errno::EMFILE),
    (Error::TryAgain, errno::EAGAIN),
    (Error::AlreadyExists, errno::EEXIST),
    (Error::NoChild, errno::ECHILD),
    (Error::NotExecutable, errno::ENOEXEC),
    (Error::NotSeekable, errno::ESPIPE),
    (Error::NoSystemCall, errno::ENOSYS),
    (Error::Io, errno::EIO),
    (Error::Busy, errno::EBUSY),
    (Error::NoDevice, errno::ENODEV),
    (Error::TimedOut, errno::ETIMEDOUT),
    (Error::Interrupted, errno::EINTR),
];

/// The largest errno a result word can carry (Redox `Error::mux`: `-4095..0`).
pub const MAX_ERRNO: i32 = 4095;

impl Error {
    /// The Redox errno for this error: the only place kernel errors become numbers.
    pub fn errno(self) -> i32 {
        match self {
            Error::Server(number) => i32::from(number),
            named => TABLE
                .iter()
                .find(|(error, _)| *error == named)
                .map_or(errno::EIO, |(_, number)| *number),
        }
    }

    /// The error a server's errno stands for; `None` unless `1 ..= MAX_ERRNO`.
    pub fn from_errno(number: i32) -> Option<Error> {
        if !(1..=MAX_ERRNO).contains(&number) {
            return None;
        }
        Some(
            TABLE
                .iter()
                .find(|(_, known)| *known == number)
                .map_or(Error::Server(number as u16), |(error, _)| *error),
        )
    }

    /// Decodes a server's result word: a value, or `-errno` (Redox's convention).
    pub fn from_result_word(word: u64) -> Result<usize, Error> {
        let value = word as i64;
        if (-i64::from(MAX_ERRNO)..0).contains(&value) {
            Err(Error::from_errno(-value as i32).unwrap_or(Error::Io))
        } else {
            usize::try_from(word).map_err(|_| Error::Io)
        }
    }
}

/// A heap reservation that failed is [`Error::OutOfMemory`].
impl From<alloc::collections::TryReserveError> for Error {
    fn from(_: alloc::collections::TryReserveError) -> Self {
        Error::OutOfMemory
    }
}

#[cfg(test)]
mod tests;
