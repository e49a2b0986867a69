//! The proxy for user schemes: every request on a handle of a scheme some process serves
//! becomes an `Sqe` for that server (see `ipc`), and the client blocks for the `Cqe`.
//!
//! Lending: a user scheme's `fmap` maps the server's own frames into the client. When they
//! are allocator frames (the server's anonymous memory, or memory it borrowed so), the
//! client's mapping holds each frame once more (`memory::frames`), so the frames outlive the
//! server's own mapping and are freed by whoever lets go last. Pool and device memory is
//! never counted: it is never in the frame allocator, and dmad frees a pool buffer only once
//! every `Munmap` for it has arrived. Translating the server's pages, counting them and
//! mapping them into the client happen under one hold of the process table, so the server
//! cannot die in between; a mapping that fails there undoes the counts and sends the server
//! the `Munmap` that balances its `MmapPrep` (dmad's map count included).

use crate::fallible::{try_string, NameCopy};
use crate::ipc::{self, Delivery, Payload};
use crate::memory::frames;
use crate::object::{Handles, OpenRequest, Scheme, Sink, Source};
use crate::process::space::MappingOrigin;
use crate::process::{self, ProcessId};
use alloc::string::String;
use kernel_core::abi::SCHEME_MAX_PAYLOAD;
use kernel_core::layout::PAGE_SIZE;
use kernel_core::{Error, PageFlags};
use redox_syscall::data::Map;
use redox_syscall::schemev2::Opcode;

/// A handle on a user scheme's object: the scheme's name, the server that gave it out and
/// that server's handle number. Only that server is asked about it: once another process
/// serves the name (its server died and a new one registered), every request on it is
/// `EBADF` and its `Close` goes nowhere (see `ipc`).
struct UserHandle {
    scheme: String,
    server: ProcessId,
    handle: u64,
}

/// A [`UserHandle`] copied out of the table for one request (the name without the heap).
struct Target {
    scheme: NameCopy,
    server: ProcessId,
    handle: u64,
}

impl Target {
    /// Sends the handle's server a request and waits for its reply.
    fn request(
        &self,
        opcode: Opcode,
        args: [u64; 6],
        payload: Payload,
    ) -> Result<ipc::Reply, Error> {
        ipc::request(&self.scheme, Some(self.server), opcode, args, payload)
    }
}

static HANDLES: Handles<UserHandle> = Handles::new();

/// The proxy for every user scheme.
pub struct UserSchemes;

/// A copy of `handle`'s [`UserHandle`], so no lock is held while the client waits for the
/// server.
fn target(handle: u64) -> Result<Target, Error> {
    HANDLES.with(handle, |user| {
        Ok(Target {
            scheme: NameCopy::new(&user.scheme)?,
            server: user.server,
            handle: user.handle,
        })
    })?
}

/// The reply's bytes the client gets: at most what the result says and what fits.
fn deliver(reply: &ipc::Reply, buffer: &mut dyn Sink) -> Result<usize, Error> {
    let count = ipc::result(reply)?
        .min(reply.payload.len())
        .min(buffer.len());
    buffer.copy_from(0, &reply.payload[..count])?;
    Ok(count)
}

impl Scheme for UserSchemes {
    fn open(&self, request: &OpenRequest<'_>) -> Result<u64, Error> {
        let scheme = try_string(request.scheme)?;
        let payload = Payload::read(&request.path.as_bytes(), usize::MAX)?;
        let args = [0, payload.len() as u64, request.flags as u64, 0, 0, 0];
        let reply = ipc::request(&scheme, None, Opcode::OpenAt, args, payload)?;
        let handle = ipc::result(&reply)? as u64;
        let server = reply.server;
        HANDLES
            .insert(UserHandle {
                scheme: try_string(&scheme)?,
                server,
                handle,
            })
            .inspect_err(|_| ipc::notify_close(&scheme, server, handle))
    }

    fn read(&self, handle: u64, buffer: &mut dyn Sink) -> Result<usize, Error> {
        let target = target(handle)?;
        let args = [target.handle, 0, buffer.len() as u64, 0, 0, 0];
        let reply = target.request(Opcode::Read, args, Payload::empty())?;
        deliver(&reply, buffer)
    }

    /// At most `SCHEME_MAX_PAYLOAD` bytes go to the server per write.
    fn write(&self, handle: u64, bytes: &dyn Source) -> Result<usize, Error> {
        let target = target(handle)?;
        let payload = Payload::read(bytes, SCHEME_MAX_PAYLOAD)?;
        let args = [target.handle, payload.len() as u64, 0, 0, 0, 0];
        ipc::result(&target.request(Opcode::Write, args, payload)?)
    }

    fn call(&self, handle: u64, input: &dyn Source, output: &mut dyn Sink) -> Result<usize, Error> {
        let target = target(handle)?;
        if input.len() > SCHEME_MAX_PAYLOAD {
            return Err(Error::InvalidArgument);
        }
        let payload = Payload::read(input, SCHEME_MAX_PAYLOAD)?;
        let args = [
            target.handle,
            payload.len() as u64,
            output.len() as u64,
            0,
            0,
            0,
        ];
        let reply = target.request(Opcode::Call, args, payload)?;
        deliver(&reply, output)
    }

    /// `MmapPrep`: the server answers with the address of the pages in its own space; map
    /// those frames into the caller with the server's memory type and no wider rights.
    fn fmap(&self, handle: u64, request: &Map, asked: PageFlags) -> Result<usize, Error> {
        let target = target(handle)?;
        if !request.size.is_multiple_of(PAGE_SIZE as usize) {
            return Err(Error::InvalidArgument);
        }
        let args = [
            target.handle,
            request.offset as u64,
            request.size as u64,
            request.flags.bits() as u64,
            0,
            0,
        ];
        let reply = target.request(Opcode::MmapPrep, args, Payload::empty())?;
        let server_address = ipc::result(&reply)? as u64;
        let server = reply.server;
        let size = request.size as u64;
        let origin = MappingOrigin {
            scheme: try_string(&target.scheme)?,
            handle: target.handle,
            offset: request.offset as u64,
            lender: server,
            first_lender: server,
        };
        let mapped = process::with(|table| {
            let lent = table
                .map
                .get(&server)
                .and_then(|server| server.space.as_ref())
                .filter(|_| server_address.is_multiple_of(PAGE_SIZE))
                .and_then(|space| space.lendable(server_address, size))
                .ok_or(Error::Io)?;
            let flags = client_flags(lent.flags, asked);
            if lent.counted {
                frames::share(&lent.pages).map_err(|_| Error::OutOfMemory)?;
            }
            let mut kept = origin.clone();
            kept.first_lender = lent.first_lender.unwrap_or(server);
            let space = table.running_space().ok_or(Error::BadAddress);
            let mapped = space.and_then(|space| {
                space
                    .map_borrowed(&lent.pages, flags, Some(kept), lent.counted)
                    .map_err(|_| Error::OutOfMemory)
            });
            if mapped.is_err() && lent.counted {
                frames::release_pages(lent.pages.iter().copied());
            }
            mapped
        });
        match mapped {
            Ok(address) => Ok(address as usize),
            Err(error) => {
                ipc::notify_unmap(&origin, size, Delivery::Always);
                Err(error)
            }
        }
    }

    /// Tells the server that gave it out (one-way, always delivered), if it still serves.
    fn close(&self, handle: u64) {
        if let Some(user) = HANDLES.remove(handle) {
            ipc::notify_close(&user.scheme, user.server, user.handle);
        }
    }
}

/// What the client may have of a server's pages with `server_flags`: the server's memory
/// type, the client's request narrowed to the server's rights, never executable.
fn client_flags(server_flags: PageFlags, asked: PageFlags) -> PageFlags {
    let mut client = PageFlags::user().cache(server_flags.cache_type());
    if asked.is_writable() && server_flags.is_writable() {
        client = client.writable();
    }
    client
}
