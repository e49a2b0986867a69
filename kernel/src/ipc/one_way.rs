//! One-way requests: `Close` and `Munmap`, which the server never answers.
//!
//! They are bounded ([`MAX_ONE_WAY_PER_CLIENT`] queued from one client at one
//! server, [`MAX_ONE_WAY_PER_SERVER`] at one server in all) for those a live client sends
//! by choice (`funmap`): with no room, the client waits until the server has read enough of
//! its queue ([`Delivery::WaitForRoom`]). Those the kernel must send are always delivered
//! ([`Delivery::Always`]): a `Close` per released handle, the `Munmap`s of an exiting
//! process and the `Munmap` that balances a failed `fmap`. Each of those stands for a slot
//! the client held anyway — one of its descriptors (at most 256) or mapped regions (at most
//! 4096) — so they are bounded by the client's own tables, and dropping one would leak the
//! server's object. Two-way requests need no bound of their own: a client has at most one
//! pending, with at most `SCHEME_MAX_PAYLOAD` bytes.
//!
//! Clients waiting for room park on one wait queue, woken whenever any server reads a
//! one-way request or exits; each checks its own server's room again.

use super::{serving, sqe, Request, Server, SCHEMES};
use crate::process::space::MappingOrigin;
use crate::process::{self, ProcessId, WaitQueue};
use kernel_core::Error;
use redox_syscall::schemev2::{Opcode, SqeFlags};

/// The most one-way requests one client may have queued at one server before a `funmap`
/// waits for room.
pub const MAX_ONE_WAY_PER_CLIENT: usize = 64;

/// The most one-way requests one server may have queued from all clients before a
/// `funmap` waits for room.
pub const MAX_ONE_WAY_PER_SERVER: usize = 1024;

/// How a one-way request is delivered when the server's queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Queue it anyway: the kernel owes the server this message (a `Close`, an exiting
    /// process's `Munmap`, the `Munmap` balancing a failed `fmap`).
    Always,
    /// Wait until the server's queue has room (a `funmap` a live client chose to make).
    WaitForRoom,
}

/// Clients waiting for room in some server's one-way queue; woken whenever a server reads a
/// one-way request or exits.
static QUEUE_ROOM: WaitQueue = WaitQueue::new();

impl Server {
    /// Whether `client` may queue one more one-way request it chose to send.
    fn has_room_for(&self, client: ProcessId) -> bool {
        self.one_way < MAX_ONE_WAY_PER_SERVER
            && self
                .queue
                .iter()
                .filter(|request| request.is_one_way() && request.sqe.caller == u64::from(client))
                .count()
                < MAX_ONE_WAY_PER_CLIENT
    }
}

/// A server read a one-way request or went away: waiting clients check for room again.
pub(super) fn room_made() {
    QUEUE_ROOM.wake_all();
}

/// Queues a one-way request about a handle `opened_by` gave out, for scheme `name` (see
/// [`Delivery`]); nothing comes back. `Io` if the scheme is gone, `BadDescriptor` if another
/// process serves it now (it never heard of the handle; see `super::serving`).
fn send_one_way(
    name: &str,
    opened_by: ProcessId,
    opcode: Opcode,
    args: [u64; 6],
    delivery: Delivery,
) -> Result<(), Error> {
    let client = process::current();
    let owner = QUEUE_ROOM.wait_until(|| {
        // A killed client no longer waits: its `Munmap` is owed like an exiting process's.
        // (Asked before the scheme table is locked: it takes the process table.)
        let may_wait = delivery == Delivery::WaitForRoom && !process::kill_requested();
        let mut schemes = SCHEMES.lock();
        let server = match serving(&mut schemes, name, Some(opened_by)) {
            Ok(server) => server,
            Err(error) => return Some(Err(error)),
        };
        // A server unmapping its own scheme's memory never waits for itself.
        if may_wait && server.owner != client && !server.has_room_for(client) {
            return None;
        }
        if let Err(error) = server.queue.try_reserve(1) {
            return Some(Err(error.into()));
        }
        let tag = server.next_tag();
        let sqe = sqe(opcode, SqeFlags::ONEWAY, tag, args, client);
        server.queue.push_back(Request {
            sqe,
            payload: super::Payload::empty(),
        });
        server.one_way += 1;
        Some(Ok(server.owner))
    })??;
    super::request_queued(owner, false);
    Ok(())
}

/// Tells `server` (one-way, always delivered) that a client closed the handle it gave out
/// on `scheme`; nobody, if another process serves `scheme` now. `args[1]` is
/// [`CLOSE_AT_EXIT`](kernel_core::abi::CLOSE_AT_EXIT) when the client is exiting (the
/// kernel closing what it left open), 0 for a `close` it made.
pub fn notify_close(scheme: &str, server: ProcessId, handle: u64) {
    let at_exit = if process::current_has_exited() {
        kernel_core::abi::CLOSE_AT_EXIT
    } else {
        0
    };
    let _ = send_one_way(
        scheme,
        server,
        Opcode::Close,
        [handle, at_exit, 0, 0, 0, 0],
        Delivery::Always,
    );
}

/// Tells the lender (one-way) that a client unmapped `size` bytes of a handle's object;
/// nobody, if another process serves the scheme now.
pub fn notify_unmap(origin: &MappingOrigin, size: u64, delivery: Delivery) {
    let _ = send_one_way(
        &origin.scheme,
        origin.lender,
        Opcode::Munmap,
        [origin.handle, origin.offset, size, 0, 0, 0],
        delivery,
    );
}
