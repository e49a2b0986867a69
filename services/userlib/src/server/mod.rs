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

pub mod wire;

pub use wire::{reply, Request};

use crate::sys;
use crate::sys::abi::SCHEME_MAX_PAYLOAD;
use crate::sys::error::EINTR;
use alloc::vec;
use core::mem::size_of;
use core::ops::Deref;
use syscall::schemev2::Sqe;

/// The exit status [`serve`] returns when reading requests fails.
pub const SOCKET_FAILED: i32 = 1;

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
    let mut buffer = vec![0u8; size_of::<Sqe>() + SCHEME_MAX_PAYLOAD];
    loop {
        let length = match sys::read(socket, &mut buffer) {
            Ok(length) => length,
            Err(error) if error.errno == EINTR => continue,
            Err(error) => {
                log::error!("reading {scheme}: requests failed: {error}");
                return SOCKET_FAILED;
            }
        };
        let Some(request) = Request::parse(&buffer[..length]) else {
            log::warn!("short message ({length} bytes) on the {scheme}: socket");
            continue;
        };
        let (caller, one_way) = (request.caller, request.is_one_way());
        let reply = handle(request);
        let Some(reply) = reply.filter(|_| !one_way) else {
            continue;
        };
        if let Err(error) = sys::write(socket, &reply) {
            log::warn!("cannot answer a {scheme}: request of pid {caller}: {error}");
        }
    }
}
