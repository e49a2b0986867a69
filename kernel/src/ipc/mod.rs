//! User schemes: a server process registers a name; requests from clients reach it as
//! `schemev2::Sqe` messages and are answered with `Cqe` (the wire convention is in
//! `kernel_core::abi`).
//!
//! A client blocks until its reply arrives. `Close` and `Munmap` are one-way, so a dying
//! client never waits on a server. A server that exits unregisters its name and fails every
//! pending request it had not answered with `EIO`; answers it gave before exiting still
//! reach their clients (kept aside until collected).
//!
//! Locking: the scheme table's lock may be held while the process table's is taken (to wake
//! someone), never the other way round.

mod grants;

pub use grants::{init_rights, load_grants, section_rights};

use crate::process::{self, ProcessId, State};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use kernel_core::abi::SCHEME_MAX_PAYLOAD;
use redox_syscall::error::{EEXIST, EINTR, EINVAL, EIO, ENOENT};
use redox_syscall::schemev2::{Cqe, Opcode, Sqe, SqeFlags};
use spin::Mutex;

/// A request waiting for the server to read it.
struct Request {
    sqe: Sqe,
    payload: Vec<u8>,
}

/// What a server answered.
pub struct Reply {
    /// The result word: a value, or `-errno` as `u64`.
    pub result: u64,
    /// Bytes for the client (`Read`, `Call`).
    pub payload: Vec<u8>,
    /// The process that answered (for one-way requests, that would have).
    pub server: ProcessId,
}

struct Server {
    owner: ProcessId,
    queue: VecDeque<Request>,
    pending: BTreeMap<u32, (ProcessId, Option<Reply>)>,
    next_tag: u32,
}

static SCHEMES: Mutex<BTreeMap<String, Server>> = Mutex::new(BTreeMap::new());

/// Answers whose server exited before their client collected them: `(server, tag, reply)`.
/// Each belongs to a client blocked in [`request`], which takes it when it next runs, so
/// there are never more than blocked clients. Taken only with [`SCHEMES`] held.
static ORPHANED_REPLIES: Mutex<Vec<(ProcessId, u32, Reply)>> = Mutex::new(Vec::new());

/// Registers scheme `name` served by the running process.
pub fn register(name: &str) -> Result<(), i32> {
    let owner = process::current();
    let mut schemes = SCHEMES.lock();
    if schemes.contains_key(name) {
        return Err(EEXIST);
    }
    schemes.insert(
        name.into(),
        Server {
            owner,
            queue: VecDeque::new(),
            pending: BTreeMap::new(),
            next_tag: 1,
        },
    );
    log::info!("scheme {name}: registered by process {owner}");
    Ok(())
}

/// Every registered scheme with its server: `(name, pid)`.
pub fn list() -> Vec<(String, ProcessId)> {
    SCHEMES
        .lock()
        .iter()
        .map(|(name, server)| (name.clone(), server.owner))
        .collect()
}

/// Whether a user scheme called `name` exists.
pub fn exists(name: &str) -> bool {
    SCHEMES.lock().contains_key(name)
}

/// Sends a request to scheme `name` and, unless it is one-way, blocks until the reply.
pub fn request(
    name: &str,
    opcode: Opcode,
    args: [u64; 6],
    payload: Vec<u8>,
    one_way: bool,
) -> Result<Reply, i32> {
    let client = process::current();
    let (tag, owner) = {
        let mut schemes = SCHEMES.lock();
        let server = schemes.get_mut(name).ok_or(EIO)?;
        let tag = server.next_tag;
        server.next_tag = server.next_tag.wrapping_add(1).max(1);
        let flags = if one_way {
            SqeFlags::ONEWAY
        } else {
            SqeFlags::empty()
        };
        let sqe = Sqe {
            opcode: opcode as u8,
            sqe_flags: flags,
            _rsvd: 0,
            tag,
            args,
            caller: u64::from(client),
        };
        server.queue.push_back(Request { sqe, payload });
        if !one_way {
            server.pending.insert(tag, (client, None));
        }
        (tag, server.owner)
    };
    process::with(|table| table.wake_if(owner, |state| state == State::WaitingForRequest));
    if one_way {
        return Ok(Reply {
            result: 0,
            payload: Vec::new(),
            server: owner,
        });
    }
    loop {
        {
            let mut schemes = SCHEMES.lock();
            let Some(server) = schemes.get_mut(name).filter(|server| server.owner == owner) else {
                let mut orphaned = ORPHANED_REPLIES.lock();
                let index = orphaned
                    .iter()
                    .position(|(server, pending, _)| *server == owner && *pending == tag)
                    .ok_or(EIO)?;
                return Ok(orphaned.swap_remove(index).2);
            };
            match server.pending.get_mut(&tag) {
                Some((_, reply)) if reply.is_some() => {
                    let reply = reply.take().expect("checked");
                    server.pending.remove(&tag);
                    return Ok(reply);
                }
                Some(_) => {}
                None => return Err(EIO),
            }
        }
        process::with(|table| table.running().state = State::WaitingForReply);
        process::reschedule(false);
    }
}

/// The next request for the scheme the running process serves, as `Sqe` bytes followed by
/// the payload, written by `deliver` into the server's buffer. Blocks while there is none.
pub fn receive(
    name: &str,
    capacity: usize,
    deliver: impl Fn(&[u8]) -> Result<(), i32>,
) -> Result<usize, i32> {
    let me = process::current();
    loop {
        let request = {
            let mut schemes = SCHEMES.lock();
            let server = schemes
                .get_mut(name)
                .filter(|server| server.owner == me)
                .ok_or(EIO)?;
            server.queue.pop_front()
        };
        let Some(request) = request else {
            process::with(|table| table.running().state = State::WaitingForRequest);
            process::reschedule(false);
            if process::kill_requested() {
                return Err(EINTR);
            }
            continue;
        };
        let size = core::mem::size_of::<Sqe>() + request.payload.len();
        let mut message = Vec::with_capacity(size);
        message.extend_from_slice(&request.sqe);
        message.extend_from_slice(&request.payload);
        if capacity < size || deliver(&message).is_err() {
            let mut schemes = SCHEMES.lock();
            if let Some(server) = schemes.get_mut(name) {
                server.queue.push_front(request);
            }
            return Err(EINVAL);
        }
        return Ok(size);
    }
}

/// Takes a server's answer: a `Cqe` followed by payload bytes.
pub fn answer(name: &str, message: &[u8]) -> Result<usize, i32> {
    let header = core::mem::size_of::<Cqe>();
    if message.len() < header || message.len() > header + SCHEME_MAX_PAYLOAD {
        return Err(EINVAL);
    }
    let mut cqe = Cqe::default();
    cqe.copy_from_slice(&message[..header]);
    let me = process::current();
    let client = {
        let mut schemes = SCHEMES.lock();
        let server = schemes
            .get_mut(name)
            .filter(|server| server.owner == me)
            .ok_or(EIO)?;
        let (client, reply) = server.pending.get_mut(&cqe.tag).ok_or(EINVAL)?;
        if reply.is_some() {
            return Err(EINVAL);
        }
        *reply = Some(Reply {
            result: cqe.result,
            payload: message[header..].to_vec(),
            server: me,
        });
        *client
    };
    process::with(|table| table.wake_if(client, |state| state == State::WaitingForReply));
    Ok(message.len())
}

/// The rights of the client whose request `tag` on scheme `name` (served by the running
/// process) awaits an answer. Bound to the pending request, so the answer is always about
/// the process that sent it.
pub fn caller_rights(name: &str, tag: u32) -> Result<kernel_core::rights::Rights, i32> {
    let me = process::current();
    let client = {
        let schemes = SCHEMES.lock();
        let server = schemes
            .get(name)
            .filter(|server| server.owner == me)
            .ok_or(EIO)?;
        match server.pending.get(&tag) {
            Some((client, None)) => *client,
            _ => return Err(ENOENT),
        }
    };
    process::with(|table| table.map.get(&client).map(|process| process.rights.clone()))
        .ok_or(ENOENT)
}

/// Unregisters every scheme `owner` serves and fails their pending requests.
pub fn server_exited(owner: ProcessId) {
    let clients: Vec<ProcessId> = {
        let mut schemes = SCHEMES.lock();
        let names: Vec<String> = schemes
            .iter()
            .filter(|(_, server)| server.owner == owner)
            .map(|(name, _)| name.clone())
            .collect();
        let mut clients = Vec::new();
        for name in names {
            if let Some(server) = schemes.remove(&name) {
                let mut orphaned = ORPHANED_REPLIES.lock();
                let mut failed = 0;
                for (tag, (client, reply)) in server.pending {
                    match reply {
                        Some(reply) if orphaned.try_reserve(1).is_ok() => {
                            orphaned.push((owner, tag, reply))
                        }
                        _ => failed += 1,
                    }
                    clients.push(client);
                }
                if failed > 0 {
                    log::warn!(
                        "scheme {name}: server {owner} exited; failing {failed} pending requests"
                    );
                }
            }
        }
        clients
    };
    process::with(|table| {
        for client in clients {
            table.wake_if(client, |state| state == State::WaitingForReply);
        }
    });
}

/// Tells a server (one-way) that a client closed its handle.
pub fn notify_close(scheme: &str, handle: u64) {
    let _ = request(
        scheme,
        Opcode::Close,
        [handle, 0, 0, 0, 0, 0],
        Vec::new(),
        true,
    );
}

/// Tells a server (one-way) that a client unmapped part of a handle's object.
pub fn notify_unmap(origin: &crate::process::space::MappingOrigin, size: u64) {
    let _ = request(
        &origin.scheme,
        Opcode::Munmap,
        [origin.handle, origin.offset, size, 0, 0, 0],
        Vec::new(),
        true,
    );
}

/// The decoded result word of a reply.
pub fn result(reply: &Reply) -> Result<usize, i32> {
    let value = reply.result as i64;
    if (-4095..0).contains(&value) {
        Err((-value) as i32)
    } else {
        Ok(reply.result as usize)
    }
}
