//! The one trait every scheme implements, with default methods that refuse.
//!
//! A scheme hands out handle numbers from [`Scheme::open`] and is asked about them by number
//! afterwards; it keeps each handle's state itself (usually in a [`super::Handles`]). The
//! kernel calls [`Scheme::close`] exactly once per handle, when the last descriptor naming it
//! goes away (`close`, or the process exiting), with no kernel lock held.
//!
//! Blocking: any method may block its caller. It parks the running process (sets a waiting
//! `process::State` and calls `process::reschedule`) while holding **no** lock, and checks
//! its condition again when woken; IPC's `request` and `receive` work so. A scheme whose
//! `read` waits for an event parks readers on a `process::WaitQueue` (`wait_until`) and its
//! event source wakes them (`wake_all`): `schemes::irq` is one, its `read` waiting for the
//! line's next interrupt and its `write` acknowledging. User memory reaches a scheme only as a
//! [`super::Source`] or [`super::Sink`], checked again at each copy, so a mapping that
//! disappears while its owner was parked is an `EFAULT`, not a kernel fault.
//!
//! Waiting on several handles at once (`SYS_WAIT_ANY`) asks each one's scheme
//! [`Scheme::ready`]; a scheme that answers it (the scheme socket, `irq:`) wakes the one
//! `process::READINESS` queue whenever one of its handles may have become ready. Every
//! other scheme keeps the default, "not waitable" (`EINVAL`).

use super::{Sink, Source};
use kernel_core::rights::Rights;
use kernel_core::{Error, PageFlags};
use redox_syscall::data::Map;

/// Who is asking: the running process, as the kernel knows it.
pub struct Caller<'a> {
    /// Its process number.
    pub pid: u32,
    /// Its name, for logs and `debug:` tags.
    pub name: &'a str,
    /// Its rights, fixed at spawn.
    pub rights: &'a Rights,
}

/// An `open` as a scheme sees it.
pub struct OpenRequest<'a> {
    /// The scheme's name as the path gave it (`dma` for `dma:/x`).
    pub scheme: &'a str,
    /// The path inside the scheme (`/x`).
    pub path: &'a str,
    /// The `O_*` flags.
    pub flags: usize,
    /// Who opens.
    pub caller: &'a Caller<'a>,
}

/// What `fstat` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    /// Size in bytes.
    pub size: u64,
    /// `st_mode`.
    pub mode: u16,
}

impl Status {
    /// A character device: no size (the console, sockets, user-scheme handles).
    pub const STREAM: Status = Status {
        size: 0,
        mode: 0o020_620,
    };
}

/// One kind of open thing. Every method but `open` and `close` has a default that refuses
/// with the errno the kernel has always given for it.
pub trait Scheme: Sync {
    /// Opens `request.path`; returns the new handle's number.
    fn open(&self, request: &OpenRequest<'_>) -> Result<u64, Error>;

    /// Reads into `buffer`; returns how many bytes were written there (0 at the end).
    fn read(&self, _handle: u64, _buffer: &mut dyn Sink) -> Result<usize, Error> {
        Err(Error::BadDescriptor)
    }

    /// Writes `bytes`; returns how many were taken.
    fn write(&self, _handle: u64, _bytes: &dyn Source) -> Result<usize, Error> {
        Err(Error::BadDescriptor)
    }

    /// A request–reply exchange over one buffer: `input` is its bytes, `output` the same
    /// buffer to answer into; returns the answer's length.
    fn call(
        &self,
        _handle: u64,
        _input: &dyn Source,
        _output: &mut dyn Sink,
    ) -> Result<usize, Error> {
        Err(Error::BadDescriptor)
    }

    /// Moves the position (`SEEK_SET` 0, `SEEK_CUR` 1, `SEEK_END` 2); returns the new one.
    fn seek(&self, _handle: u64, _offset: isize, _whence: usize) -> Result<usize, Error> {
        Err(Error::NotSeekable)
    }

    /// Size and mode for `fstat`.
    fn status(&self, _handle: u64) -> Result<Status, Error> {
        Ok(Status::STREAM)
    }

    /// Maps part of the object into the running process (`request` checked for shape by the
    /// system call; `flags` are the user permissions asked for); returns the address.
    fn fmap(&self, _handle: u64, _request: &Map, _flags: PageFlags) -> Result<usize, Error> {
        Err(Error::InvalidArgument)
    }

    /// Whether `read` on `handle` would return at once, for `SYS_WAIT_ANY`. A scheme that
    /// answers wakes `process::READINESS` whenever one of its handles may have become ready
    /// (it may wake too often, never too rarely). By default a handle cannot be waited on
    /// (`EINVAL`).
    fn ready(&self, _handle: u64) -> Result<bool, Error> {
        Err(Error::InvalidArgument)
    }

    /// The last descriptor for `handle` is gone: let go of its state (and tell whoever must
    /// know). Never fails; called once per handle, with no kernel lock held.
    fn close(&self, handle: u64);
}
