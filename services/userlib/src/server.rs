//! The scheme-server loop: read one request from a scheme socket, answer it, for ever.
//!
//! A server registers its scheme (`open(":NAME")`), then hands the socket and a handler to
//! [`serve`]. The handler sees each message as the kernel wrote it (a
//! `redox_syscall::schemev2::Sqe`, then its payload) and returns the reply to write back
//! (a `Cqe`, then any payload), or `None` for a one-way request (`Close`, `Munmap`) or a
//! message it drops. What the requests mean is the server's business; the loop only moves
//! bytes: it retries a read the kernel interrupted (`EINTR`), reports a reply it could not
//! write and goes on, and returns exit status 1 when the socket itself fails.

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
pub fn serve<R>(socket: usize, scheme: &str, mut handle: impl FnMut(&[u8]) -> Option<R>) -> i32
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
        let Some(reply) = handle(&buffer[..length]) else {
            continue;
        };
        if let Err(error) = sys::write(socket, &reply) {
            log::warn!("cannot answer a {scheme}: request: {error}");
        }
    }
}
