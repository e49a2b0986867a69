//! The server's state and the dispatch of one request.
//!
//! State: the pool registry; the mapped regions; the grants; per caller pid, what dmad knows
//! of it (its name and grant, looked up once and forgotten with its last handle); the open
//! handles, each owned by one caller; and the live mappings, each remembered by its
//! [`MappingToken`] so an unmap after close still finds its buffer.
//!
//! Every table is bounded ([`limits`]) and every lookup is logarithmic: handles are keyed
//! by (owner, number), mappings by (owner, handle, offset, size, serial), so one process's
//! entries, or one handle's mappings, are a range of the map; per-process counts are kept
//! beside them rather than counted by scanning.

#[cfg(test)]
mod check;
mod debug;
mod handles;
pub(crate) mod limits;
mod mappings;
mod open;
mod pools;
mod quarantine;
mod share;

use crate::{Callers, Grant, Grants, PoolMemory, Refusal, Regions, Reply, Request};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use dma_api::{DmaBufferInfo, DmaError};
use dma_pool::{BufferHandle, MappingToken, OwnerId, PoolRegistry};
use log::{info, warn};
use syscall::schemev2::Opcode;

/// What an open handle is.
#[derive(Clone, Debug)]
enum Handle {
    /// A text table snapshot and how far the client has read.
    Text { bytes: Vec<u8>, offset: usize },
    /// A buffer, and the device it was allocated for.
    Buffer {
        handle: BufferHandle,
        info: DmaBufferInfo,
        /// Where the device's IOMMU domain maps it.
        mapping: crate::DeviceMapping,
    },
    /// The result of a `declare` or `release-pool`: nothing to read.
    Done,
    /// Another process's buffer, imported (`crate::share`).
    Import(share::Import),
}

/// One open handle (its owner is in its key).
#[derive(Clone, Debug)]
struct OpenHandle {
    handle: Handle,
}

/// A caller as dmad knows it.
#[derive(Clone, Debug)]
struct Client {
    /// The manifest section its rights came from, if any (for logs and tables).
    name: Option<String>,
    /// The devices and the quota the kernel says it has.
    grant: Grant,
    /// Whether the kernel says it may declare and retire pools.
    declare_pools: bool,
}

/// Where a mapping is kept: (owner, handle, offset, size, serial). The serial tells apart
/// mappings of the same range and is unique across dmad's life.
type MappingKey = (u32, u64, u64, u64, u64);

/// One mapping of a buffer into a client.
#[derive(Clone, Copy, Debug)]
struct Mapping {
    /// Bytes of it still mapped.
    remaining: u64,
    token: MappingToken,
}

/// The `dma:` scheme's state machine.
pub struct Server {
    registry: PoolRegistry,
    regions: Regions,
    grants: Grants,
    callers: Box<dyn Callers>,
    clients: BTreeMap<u32, Client>,
    /// Open handles by (owner, number).
    handles: BTreeMap<(u32, u64), OpenHandle>,
    next_handle: u64,
    mappings: BTreeMap<MappingKey, Mapping>,
    next_mapping: u64,
    /// What each process holding a handle or a mapping holds.
    usage: BTreeMap<u32, limits::Usage>,
    limits: limits::Limits,
    /// The devices' IOMMU domains (nothing to do without an IOMMU).
    confinement: Box<dyn crate::Confinement>,
    quiesce: crate::quiesce::QuiesceRecords,
    /// Export tokens and shared buffers' holders and device mappings.
    shares: crate::share::ShareTable,
    /// Debug mode: poison checks and leak reports (`debug.rs`).
    debug: debug::DebugRecords,
}

impl Server {
    /// A server with no pools, knowing from `grants` which devices the manifest grants to
    /// anyone, learning callers' rights from `callers`.
    pub fn new(grants: Grants, callers: Box<dyn Callers>) -> Self {
        Server {
            registry: PoolRegistry::new(),
            regions: Regions::default(),
            grants,
            callers,
            clients: BTreeMap::new(),
            handles: BTreeMap::new(),
            next_handle: 1,
            mappings: BTreeMap::new(),
            next_mapping: 0,
            usage: BTreeMap::new(),
            limits: limits::Limits::DEFAULT,
            confinement: Box::new(crate::Unconfined),
            quiesce: Default::default(),
            shares: Default::default(),
            debug: Default::default(),
        }
    }

    /// Tells `confinement` of every buffer a device gains or loses from now on.
    pub fn confine_with(&mut self, confinement: Box<dyn crate::Confinement>) {
        self.confinement = confinement;
    }

    /// Numbers new handles from `first` on (at least 1) instead of 1. The program starts at
    /// its pid shifted left 32 bits, so no two dmads of one boot hand out the same number
    /// and a handle left over from a dead dmad never names one of a restarted dmad's.
    pub fn number_handles_from(&mut self, first: u64) {
        self.next_handle = first.max(1);
    }

    /// The pool registry (for tables and tests).
    pub fn registry(&self) -> &PoolRegistry {
        &self.registry
    }

    /// Handles one request. `memory` zeroes new buffers through dmad's mappings. A `Close`
    /// gets a reply too, which the program does not send.
    pub fn handle(&mut self, request: Request<'_>, memory: &mut dyn PoolMemory) -> Reply {
        let Ok(caller) = u32::try_from(request.caller) else {
            return Reply::error(DmaError::Invalid.errno());
        };
        // Pages freed outside a request (`reap`) are poisoned before anything is allocated,
        // and this request's frees before the next.
        self.poison_freed(memory);
        let outcome = self.dispatch(caller, &request, memory);
        self.poison_freed(memory);
        match outcome {
            Ok(reply) => reply,
            Err(refusal) => {
                let name = self
                    .clients
                    .get(&caller)
                    .and_then(|client| client.name.as_deref())
                    .unwrap_or("?");
                let what = describe(&request);
                warn!(
                    "refused {what} from {name} (pid {caller}): {} ({})",
                    refusal.name, refusal.reason
                );
                Reply::error(refusal.errno)
            }
        }
    }

    /// Forgets everything `pid` held (its exit, reported as leaks in debug mode): reclaims its buffers (unmap, then release or
    /// quarantine: the crate doc's order), closes its handles and drops what dmad knew of it.
    pub fn reap(&mut self, pid: u32) {
        let buffers: Vec<(BufferHandle, crate::DeviceMapping)> = self
            .handles
            .range((pid, 0)..=(pid, u64::MAX))
            .filter_map(|(_, open)| match &open.handle {
                Handle::Buffer {
                    handle, mapping, ..
                } => Some((*handle, mapping.clone())),
                _ => None,
            })
            .collect();
        self.shares.revoke(pid, None);
        for (handle, mapping) in &buffers {
            self.note_leak(pid, &mapping.device, mapping.size);
            if let Err(error) = self.reclaim(*handle, pid, mapping) {
                info!(
                    "buffer {:#x} of pid {pid}: already gone ({error})",
                    mapping.iova
                );
            }
        }
        // Whatever else it held (released buffers still mapped) goes too.
        self.registry.release_all(OwnerId(pid));
        let theirs: Vec<(u32, u64)> = self
            .handles
            .range((pid, 0)..=(pid, u64::MAX))
            .map(|(key, _)| *key)
            .collect();
        for key in theirs {
            if let Some(OpenHandle {
                handle: Handle::Import(import),
            }) = self.handles.remove(&key)
            {
                self.release_import(pid, import);
            }
            self.count(pid, |usage| usage.handles -= 1);
        }
        self.forget_client(pid);
    }

    fn dispatch(
        &mut self,
        caller: u32,
        request: &Request<'_>,
        memory: &mut dyn PoolMemory,
    ) -> Result<Reply, Refusal> {
        let opcode = Opcode::try_from_raw(request.opcode);
        let handle = request.handle();
        match opcode {
            Some(Opcode::OpenAt) => {
                self.lift_quarantines();
                self.open(caller, request.tag, request.payload, memory)
            }
            Some(Opcode::Read) => self.read(caller, handle, request.args[2]),
            Some(Opcode::Call) => match crate::share::export_request(request.payload) {
                Some(options) => self.export(caller, handle, options, request.args[2]),
                None => self.read(caller, handle, request.args[2]),
            },
            Some(Opcode::Write) => {
                self.owned(caller, handle)?;
                Err(Refusal::new(
                    DmaError::Invalid,
                    "dma: descriptors are not written",
                ))
            }
            Some(Opcode::MmapPrep) => self.map(caller, handle, request.args[1], request.args[2]),
            Some(Opcode::Munmap) => self.unmap(caller, handle, request.args[1], request.args[2]),
            Some(Opcode::Close) => self.close(
                caller,
                handle,
                request.args[1] & kernel_core::abi::CLOSE_AT_EXIT != 0,
            ),
            _ => Err(Refusal::unsupported()),
        }
    }

    /// The client `pid`, looked up on its first request (`tag`, still pending): its rights,
    /// quota included, from the kernel. The kernel never reuses a
    /// pid, and dmad forgets a client with its last handle, so the entry stays about the
    /// process that made it.
    fn client(&mut self, pid: u32, tag: u32) -> Result<&Client, Refusal> {
        if !self.clients.contains_key(&pid) {
            let rights = self.callers.rights(pid, tag).unwrap_or_default();
            let quota_pages = rights.quota_pages;
            if let Some(quota) = quota_pages {
                self.registry.set_owner_quota(OwnerId(pid), Some(quota))?;
            }
            let client = Client {
                name: rights.section,
                grant: Grant {
                    devices: rights.devices,
                    quota_pages,
                },
                declare_pools: rights.declare_pools,
            };
            self.clients.insert(pid, client);
        }
        Ok(&self.clients[&pid])
    }

    /// Drops what dmad knew of `pid` (it has no handle left). Its quota entry goes too
    /// unless pages are still charged to it (released buffers still mapped); the last
    /// unmap of those calls this again.
    fn forget_client(&mut self, pid: u32) {
        self.client_departed(pid);
        self.clients.remove(&pid);
        if self.registry.owner_usage(OwnerId(pid)).charged_pages() == 0 {
            // Clearing a quota cannot fail for lack of room.
            let _ = self.registry.set_owner_quota(OwnerId(pid), None);
        }
    }

    /// The handle `number` if `caller` owns it; `EBADF` otherwise (whether it does not
    /// exist or is another process's).
    fn owned(&self, caller: u32, number: u64) -> Result<&OpenHandle, Refusal> {
        self.handles.get(&(caller, number)).ok_or(Refusal::new(
            DmaError::BadHandle,
            "no such handle in this process",
        ))
    }

    /// Registers a new handle for `owner` (admitted by [`Server::admit_handle`]).
    fn insert_handle(&mut self, owner: u32, handle: Handle) -> u64 {
        let number = self.next_handle;
        self.next_handle += 1;
        self.handles.insert((owner, number), OpenHandle { handle });
        self.count(owner, |usage| usage.handles += 1);
        number
    }
}

/// A few words naming a request, for the log.
fn describe(request: &Request<'_>) -> String {
    use core::fmt::Write;
    let mut text = String::new();
    match Opcode::try_from_raw(request.opcode) {
        Some(Opcode::OpenAt) => {
            let path = core::str::from_utf8(request.payload).unwrap_or("(not UTF-8)");
            let _ = write!(text, "open dma:/{path}");
        }
        Some(opcode) => {
            let _ = write!(text, "{opcode:?} on handle {}", request.handle());
        }
        None => {
            let _ = write!(text, "opcode {}", request.opcode);
        }
    }
    text
}
