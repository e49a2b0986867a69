//! User schemes: a server process registers a name; requests from clients reach it as
//! `schemev2::Sqe` messages and are answered with `Cqe` (the wire convention is in
//! `kernel_core::abi`).
//!
//! A client blocks until its reply arrives. `Close` and `Munmap` are one-way, so a dying
//! client never waits on a server. A server that exits unregisters its name and fails every
//! pending request it had not answered with `EIO`; answers it gave before exiting still
//! reach their clients (kept aside until collected).
//!
//! A handle belongs to the server that opened it: every request on it names that process
//! (`opened_by`), and once another process serves the scheme — the handle's server died and
//! a new one registered the name — the request is refused with `EBADF` and never reaches
//! the new server, which never heard of the handle (nor gets its `Close`). While nobody
//! serves the name, requests get `EIO`, as always for a server that is gone.
//!
//! One-way requests (`Close`, `Munmap`) and their bounds are in [`one_way`].
//!
//! Locking: the scheme table's lock ([`SCHEMES`]) may be held while the orphaned replies'
//! is taken, and the leaves (the heap, the console), nothing else; it is released before
//! the process table's is taken (to wake someone) and before anything parks.

mod grants;
mod one_way;

pub use grants::{init_rights, load_grants, section_rights};
pub use one_way::{notify_close, notify_unmap, Delivery};

use crate::object::{Sink, Source};
use crate::process::{self, ProcessId, State};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use kernel_core::abi::SCHEME_MAX_PAYLOAD;
use kernel_core::Error;
use redox_syscall::schemev2::{Cqe, Opcode, Sqe, SqeFlags};
use spin::Mutex;

/// A request waiting for the server to read it.
struct Request {
    sqe: Sqe,
    payload: Payload,
}

/// The bytes a request carries to its server: inline when they are few (a `call`'s
/// arguments, a short path), so the common request takes nothing from the heap; a vector
/// otherwise.
pub enum Payload {
    /// At most [`Payload::INLINE`] bytes; only `..length` are the payload.
    Inline {
        /// The bytes.
        bytes: [u8; Payload::INLINE],
        /// How many there are.
        length: usize,
    },
    /// More bytes.
    Heap(Vec<u8>),
}

impl Payload {
    /// The most bytes kept inline.
    pub const INLINE: usize = 64;

    /// No bytes.
    pub const fn empty() -> Self {
        Payload::Inline {
            bytes: [0; Payload::INLINE],
            length: 0,
        }
    }

    /// The first `limit` bytes of `source` (all of them if fewer); `OutOfMemory` when they
    /// do not fit inline and the heap refuses.
    pub fn read(source: &dyn Source, limit: usize) -> Result<Self, Error> {
        let length = source.len().min(limit);
        if length > Self::INLINE {
            return crate::object::read_all(source, limit).map(Payload::Heap);
        }
        let mut bytes = [0u8; Self::INLINE];
        source.copy_to(0, &mut bytes[..length])?;
        Ok(Payload::Inline { bytes, length })
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Payload::Inline { bytes, length } => &bytes[..*length],
            Payload::Heap(bytes) => bytes,
        }
    }

    /// How many bytes.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Self {
        Payload::Heap(bytes)
    }
}

impl Request {
    fn is_one_way(&self) -> bool {
        self.sqe.sqe_flags.contains(SqeFlags::ONEWAY)
    }
}

/// What a server answered.
pub struct Reply {
    /// The result word: a value, or `-errno` as `u64`.
    pub result: u64,
    /// Bytes for the client (`Read`, `Call`).
    pub payload: Vec<u8>,
    /// The process that answered.
    pub server: ProcessId,
}

struct Server {
    owner: ProcessId,
    queue: VecDeque<Request>,
    pending: BTreeMap<u32, (ProcessId, Option<Reply>)>,
    next_tag: u32,
    one_way: usize,
}

impl Server {
    fn next_tag(&mut self) -> u32 {
        let tag = self.next_tag;
        self.next_tag = self.next_tag.wrapping_add(1).max(1);
        tag
    }
}

static SCHEMES: Mutex<BTreeMap<String, Server>> = Mutex::new(BTreeMap::new());

/// Answers whose server exited before their client collected them: `(server, tag, reply)`.
/// Each belongs to a client blocked in [`request`], which takes it when it next runs, so
/// there are never more than blocked clients. Taken only with [`SCHEMES`] held.
static ORPHANED_REPLIES: Mutex<Vec<(ProcessId, u32, Reply)>> = Mutex::new(Vec::new());

/// Registers scheme `name` served by the running process.
pub fn register(name: &str) -> Result<(), Error> {
    let owner = process::current();
    let mut key = String::new();
    key.try_reserve_exact(name.len())?;
    key.push_str(name);
    let mut schemes = SCHEMES.lock();
    if schemes.contains_key(name) {
        return Err(Error::AlreadyExists);
    }
    schemes.insert(
        key,
        Server {
            owner,
            queue: VecDeque::new(),
            pending: BTreeMap::new(),
            next_tag: 1,
            one_way: 0,
        },
    );
    log::info!("scheme {name}: registered by process {owner}");
    Ok(())
}

/// Runs `visit` on every registered scheme with its server, in name order, under the
/// scheme table's lock (so `visit` must not take any lock but the heap's).
pub fn for_each_scheme<E>(
    mut visit: impl FnMut(&str, ProcessId) -> Result<(), E>,
) -> Result<(), E> {
    SCHEMES
        .lock()
        .iter()
        .try_for_each(|(name, server)| visit(name, server.owner))
}

/// Whether a user scheme called `name` exists.
pub fn exists(name: &str) -> bool {
    SCHEMES.lock().contains_key(name)
}

/// Whether scheme `name` has a request queued for its server (its socket is ready for
/// `SYS_WAIT_ANY`).
pub fn has_request(name: &str) -> bool {
    SCHEMES
        .lock()
        .get(name)
        .is_some_and(|server| !server.queue.is_empty())
}

/// A request was queued for `owner`'s scheme: wake the server if it waits in `read` on its
/// socket, and everyone in `SYS_WAIT_ANY` (the socket is ready now). With `park_client`,
/// the running thread is marked waiting for its reply in the same hold of the process
/// table. Call with no lock held.
fn request_queued(owner: ProcessId, park_client: bool) {
    process::with(|table| {
        table.wake_group_if(owner, |state| state == State::WaitingForRequest);
        if park_client {
            table.running().state = State::WaitingForReply;
        }
    });
    process::READINESS.wake_all();
}

/// A request header from `client`.
fn sqe(opcode: Opcode, flags: SqeFlags, tag: u32, args: [u64; 6], client: ProcessId) -> Sqe {
    Sqe {
        opcode: opcode as u8,
        sqe_flags: flags,
        _rsvd: 0,
        tag,
        args,
        caller: u64::from(client),
    }
}

/// The server of scheme `name` that a request may go to: whoever serves it (an open,
/// `opened_by` = `None`), or for a request on a handle only the process that gave the handle
/// out. `Io` when nobody serves `name`; `BadDescriptor` when another process does now (the
/// handle is stale: see the module documentation).
fn serving<'a>(
    schemes: &'a mut BTreeMap<String, Server>,
    name: &str,
    opened_by: Option<ProcessId>,
) -> Result<&'a mut Server, Error> {
    let server = schemes.get_mut(name).ok_or(Error::Io)?;
    match opened_by {
        Some(owner) if owner != server.owner => Err(Error::BadDescriptor),
        _ => Ok(server),
    }
}

/// Sends a request to scheme `name` and blocks until the reply: to whoever serves it when
/// `opened_by` is `None` (an open), else only to that server (a request on a handle it gave
/// out; see [`serving`]). `Io` if the server is gone, or goes before it answers.
pub fn request(
    name: &str,
    opened_by: Option<ProcessId>,
    opcode: Opcode,
    args: [u64; 6],
    payload: Payload,
) -> Result<Reply, Error> {
    // The server sees the process; the reply wakes the thread that asked.
    let (client, thread) = process::with(|table| (table.running_group(), table.current()));
    let (tag, owner) = {
        let mut schemes = SCHEMES.lock();
        let server = serving(&mut schemes, name, opened_by)?;
        server.queue.try_reserve(1)?;
        let tag = server.next_tag();
        let sqe = sqe(opcode, SqeFlags::empty(), tag, args, client);
        server.queue.push_back(Request { sqe, payload });
        server.pending.insert(tag, (thread, None));
        (tag, server.owner)
    };
    // No reply can come before this thread lets go of the big lock (the server runs only
    // then), so a request to another process parks at once, marked in the hold of the
    // process table that wakes the server, and looks for its reply only when woken. A
    // request to its own process looks first: that process may be ending (below).
    let mut look = owner == client;
    request_queued(owner, !look);
    loop {
        if !look {
            look = true;
            process::reschedule(false);
            continue;
        }
        // A thread asking a scheme its own process serves gives up once the process is
        // ending: the serving thread may already be gone, and no reply would come.
        let own_process_ending = owner == client && process::kill_requested();
        {
            let mut schemes = SCHEMES.lock();
            let Some(server) = schemes.get_mut(name).filter(|server| server.owner == owner) else {
                let mut orphaned = ORPHANED_REPLIES.lock();
                let index = orphaned
                    .iter()
                    .position(|(server, pending, _)| *server == owner && *pending == tag)
                    .ok_or(Error::Io)?;
                return Ok(orphaned.swap_remove(index).2);
            };
            match server.pending.get_mut(&tag) {
                Some((_, reply)) if reply.is_some() => {
                    let reply = reply.take().ok_or(Error::Io)?;
                    server.pending.remove(&tag);
                    return Ok(reply);
                }
                Some(_) if own_process_ending => {
                    server.pending.remove(&tag);
                    return Err(Error::Interrupted);
                }
                Some(_) => {}
                None => return Err(Error::Io),
            }
        }
        process::with(|table| table.running().state = State::WaitingForReply);
        process::reschedule(false);
    }
}

/// The next request for the scheme the running process serves, written into `buffer` as
/// `Sqe` bytes followed by the payload; returns its length. Blocks while there is none.
/// `InvalidArgument` (and the request stays queued) if it does not fit.
pub fn receive(name: &str, buffer: &mut dyn Sink) -> Result<usize, Error> {
    let me = process::current();
    loop {
        let request = {
            let mut schemes = SCHEMES.lock();
            let server = schemes
                .get_mut(name)
                .filter(|server| server.owner == me)
                .ok_or(Error::Io)?;
            let request = server.queue.pop_front();
            if request.as_ref().is_some_and(Request::is_one_way) {
                server.one_way -= 1;
            }
            request
        };
        let Some(request) = request else {
            process::with(|table| table.running().state = State::WaitingForRequest);
            process::reschedule(false);
            if process::kill_requested() {
                return Err(Error::Interrupted);
            }
            continue;
        };
        let header = core::mem::size_of::<Sqe>();
        let size = header + request.payload.len();
        let delivered = if buffer.len() < size {
            Err(Error::InvalidArgument)
        } else {
            buffer
                .copy_from(0, &request.sqe)
                .and_then(|()| buffer.copy_from(header, request.payload.as_slice()))
        };
        if let Err(error) = delivered {
            let mut schemes = SCHEMES.lock();
            if let Some(server) = schemes.get_mut(name) {
                if request.is_one_way() {
                    server.one_way += 1;
                }
                // The slot it came from is still reserved: the queue never shrinks its buffer.
                server.queue.push_front(request);
            }
            return Err(error);
        }
        if request.is_one_way() {
            one_way::room_made();
        }
        return Ok(size);
    }
}

/// Takes a server's answer: a `Cqe` followed by payload bytes. Returns its length.
pub fn answer(name: &str, message: &dyn Source) -> Result<usize, Error> {
    let header = core::mem::size_of::<Cqe>();
    let length = message.len();
    if length < header || length > header + SCHEME_MAX_PAYLOAD {
        return Err(Error::InvalidArgument);
    }
    let mut cqe = Cqe::default();
    message.copy_to(0, &mut cqe)?;
    let mut payload = Vec::new();
    payload.try_reserve_exact(length - header)?;
    payload.resize(length - header, 0);
    message.copy_to(header, &mut payload)?;
    let me = process::current();
    let client = {
        let mut schemes = SCHEMES.lock();
        let server = schemes
            .get_mut(name)
            .filter(|server| server.owner == me)
            .ok_or(Error::Io)?;
        let (client, reply) = server
            .pending
            .get_mut(&cqe.tag)
            .ok_or(Error::InvalidArgument)?;
        if reply.is_some() {
            return Err(Error::InvalidArgument);
        }
        *reply = Some(Reply {
            result: cqe.result,
            payload,
            server: me,
        });
        *client
    };
    process::with(|table| table.wake_if(client, |state| state == State::WaitingForReply));
    Ok(length)
}

/// The rights of the client whose request `tag` on scheme `name` (served by the running
/// process) awaits an answer. Bound to the pending request, so the answer is always about
/// the process that sent it.
pub fn caller_rights(
    name: &str,
    tag: u32,
) -> Result<alloc::sync::Arc<kernel_core::rights::Rights>, Error> {
    let me = process::current();
    let client = {
        let schemes = SCHEMES.lock();
        let server = schemes
            .get(name)
            .filter(|server| server.owner == me)
            .ok_or(Error::Io)?;
        match server.pending.get(&tag) {
            Some((client, None)) => *client,
            _ => return Err(Error::NotFound),
        }
    };
    process::with(|table| table.map.get(&client).map(|process| process.rights.clone()))
        .ok_or(Error::NotFound)
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
    one_way::room_made();
}

/// The decoded result word of a reply.
pub fn result(reply: &Reply) -> Result<usize, Error> {
    Error::from_result_word(reply.result)
}
