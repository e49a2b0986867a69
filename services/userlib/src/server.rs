//! The scheme-server loop: read one request from a scheme socket, answer it, for ever.
//!
//! A server registers its scheme (`open(":NAME")`), then hands the socket and a handler to
//! [`serve`]. The handler sees each message as the kernel wrote it (a
//! `redox_syscall::schemev2::Sqe`, then its payload) and returns the reply to write back
//! (a `Cqe`, then any payload), or `None` for a one-way request (`Close`, `Munmap`) or a
//! message it drops. What the requests mean is the server's business; the loop only moves
//! bytes: it retries a read the kernel interrupted (`EINTR`), reports a reply it could not
//! write and goes on, and returns exit status 1 when the socket itself fails.
//!
//! A server that also waits for something else — a driver waiting for its device's
//! interrupt in the middle of a request — uses [`serve_with`]: its handler gets the
//! [`Requests`] too, waits with `sys::wait_any` on the socket and its `irq:` descriptor, and
//! when the socket is ready calls [`Requests::stash`]: the request is read at once (the
//! client is not left unserved by the kernel) and handled after the current one.

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
pub fn serve<R>(socket: usize, scheme: &str, mut handle: impl FnMut(&[u8]) -> Option<R>) -> i32
where
    R: Deref<Target = [u8]>,
{
    serve_with(&mut Requests::new(socket), scheme, |message, _| {
        handle(message)
    })
}

/// [`serve`], with the handler also given the [`Requests`] (see the module doc). Stashed
/// requests are handled, in order, before the socket is read again.
pub fn serve_with<R>(
    requests: &mut Requests,
    scheme: &str,
    mut handle: impl FnMut(&[u8], &mut Requests) -> Option<R>,
) -> i32
where
    R: Deref<Target = [u8]>,
{
    loop {
        let reply = if let Some(message) = requests.backlog.pop_front() {
            handle(&message, requests)
        } else {
            let mut buffer = core::mem::take(&mut requests.buffer);
            let length = match sys::read(requests.socket, &mut buffer) {
                Ok(length) => length,
                Err(error) if error.errno == EINTR => {
                    requests.buffer = buffer;
                    continue;
                }
                Err(error) => {
                    log::error!("reading {scheme}: requests failed: {error}");
                    return SOCKET_FAILED;
                }
            };
            let reply = handle(&buffer[..length], requests);
            requests.buffer = buffer;
            reply
        };
        let Some(reply) = reply else {
            continue;
        };
        if let Err(error) = sys::write(requests.socket, &reply) {
            log::warn!("cannot answer a {scheme}: request: {error}");
        }
    }
}
