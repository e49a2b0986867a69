//! The scheme-server loop: read one request from a scheme socket, answer it, for ever.
//!
//! A server registers its scheme (`open(":NAME")`), then hands the socket and a handler to
//! [`serve`]. The loop reads each message the kernel writes, parses it into a [`Request`]
//! (an `Sqe` and its payload; see [`wire`]), and gives it to the handler, which returns the
//! reply message to write back (usually [`reply`]'s `Cqe` plus payload) or `None` to drop
//! it. What the requests mean is the server's business; the loop owns the rules every server
//! shares, so they exist once:
//!
//! - a message too short to hold an `Sqe` is logged and dropped;
//! - one-way requests (`Close`, `Munmap`: nobody waits for them) are handled but never
//!   answered, whatever the handler returns;
//! - a read the kernel interrupted (`EINTR`) is retried; a reply that cannot be written is
//!   logged and the loop goes on; when the socket itself fails, [`serve`] returns
//!   [`SOCKET_FAILED`].
//!
//! Who asked is in the request (`Request::caller`, the kernel-issued pid); what that caller
//! may do, a handler asks the kernel while the request is pending
//! (`sys::caller_rights(socket, request.tag)`), never from text the caller wrote.
//!
//! A server that also waits for something else — a driver waiting for its device's
//! interrupt in the middle of a request — uses [`serve_with`]: its handler gets the
//! [`Requests`] too, waits with `sys::wait_any` on the socket and its `irq:` descriptor, and
//! when the socket is ready calls [`Requests::stash`]: the request is read at once (the
//! client is not left unserved by the kernel) and handled after the current one.

pub mod wire;

pub use wire::{reply, Request};

use crate::sys;
use crate::sys::abi::SCHEME_MAX_PAYLOAD;
use crate::sys::error::EINTR;
use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use core::mem::size_of;
use core::ops::Deref;
use syscall::schemev2::Sqe;

/// The exit status [`serve`] returns when reading requests fails.
pub const SOCKET_FAILED: i32 = 1;

/// A scheme socket and the requests read from it but not yet handled.
pub struct Requests {
    socket: usize,
    buffer: Vec<u8>,
    backlog: VecDeque<Vec<u8>>,
    stashed: u64,
}

impl Requests {
    /// The requests arriving on `socket`.
    pub fn new(socket: usize) -> Self {
        Requests {
            socket,
            buffer: vec![0u8; size_of::<Sqe>() + SCHEME_MAX_PAYLOAD],
            backlog: VecDeque::new(),
            stashed: 0,
        }
    }

    /// The scheme socket (to wait on it, or to answer a request out of order).
    pub fn socket(&self) -> usize {
        self.socket
    }

    /// Reads one request now and keeps it for after the current one (call when `wait_any`
    /// says the socket is ready, so the read does not block).
    ///
    /// # Errors
    ///
    /// The read's error.
    pub fn stash(&mut self) -> sys::Result<()> {
        // The loop's own buffer may hold the request being handled: read into a new one.
        let mut message = vec![0u8; size_of::<Sqe>() + SCHEME_MAX_PAYLOAD];
        let length = sys::read(self.socket, &mut message)?;
        message.truncate(length);
        self.backlog.push_back(message);
        self.stashed += 1;
        Ok(())
    }

    /// How many requests [`Requests::stash`] has read so far.
    pub fn stashed(&self) -> u64 {
        self.stashed
    }
}

/// Serves scheme `scheme` (for messages) on `socket` with `handle`, until reading the socket
/// fails; then returns [`SOCKET_FAILED`].
pub fn serve<R>(
    socket: usize,
    scheme: &str,
    mut handle: impl FnMut(Request<'_>) -> Option<R>,
) -> i32
where
    R: Deref<Target = [u8]>,
{
    serve_with(&mut Requests::new(socket), scheme, |request, _| {
        handle(request)
    })
}

/// [`serve`], with the handler also given the [`Requests`] (see the module doc). Stashed
/// requests are handled, in order, before the socket is read again.
pub fn serve_with<R>(
    requests: &mut Requests,
    scheme: &str,
    mut handle: impl FnMut(Request<'_>, &mut Requests) -> Option<R>,
) -> i32
where
    R: Deref<Target = [u8]>,
{
    loop {
        // The loop's buffer stays full length: a message read into it is its first `length`
        // bytes, so nothing is cleared or resized between requests.
        let (message, length, from_backlog) = match requests.backlog.pop_front() {
            Some(message) => {
                let length = message.len();
                (message, length, true)
            }
            None => {
                let mut buffer = core::mem::take(&mut requests.buffer);
                match sys::read(requests.socket, &mut buffer) {
                    Ok(length) => {
                        let length = length.min(buffer.len());
                        (buffer, length, false)
                    }
                    Err(error) if error.errno == EINTR => {
                        requests.buffer = buffer;
                        continue;
                    }
                    Err(error) => {
                        log::error!("reading {scheme}: requests failed: {error}");
                        return SOCKET_FAILED;
                    }
                }
            }
        };
        let answer = match Request::parse(&message[..length]) {
            None => {
                log::warn!("short message ({length} bytes) on the {scheme}: socket");
                None
            }
            Some(request) => {
                let (caller, one_way) = (request.caller, request.is_one_way());
                handle(request, requests)
                    .filter(|_| !one_way)
                    .map(|reply| (caller, reply))
            }
        };
        if !from_backlog {
            // Give the loop's buffer back for the next read.
            requests.buffer = message;
        }
        let Some((caller, reply)) = answer else {
            continue;
        };
        if let Err(error) = sys::write(requests.socket, &reply) {
            log::warn!("cannot answer a {scheme}: request of pid {caller}: {error}");
        }
    }
}
