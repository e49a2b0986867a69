//! How much dmad keeps for each process and in all, and what a request over a limit gets.
//!
//! dmad serves every process in the system from one address space, so no process may make
//! it keep an unbounded amount of state. Every table is bounded; a request that would grow a
//! full table is refused with the errno below and changes nothing (no pool, count or record):
//!
//! | table | per process | in all | errno |
//! | --- | --- | --- | --- |
//! | open handles (buffers, text tables, declare results) | [`Limits::handles_per_client`] (256) | [`Limits::handles`] (4096) | `EMFILE` / `ENFILE` |
//! | mappings (`MmapPrep` answered, no `Munmap` yet) | [`Limits::mappings_per_client`] (256) | [`Limits::mappings`] (8192) | `ENOMEM` |
//! | client records (processes with an open handle) | — | [`Limits::clients`] (256) | `EAGAIN` |
//!
//! Why these errnos: too many handles is `open`'s own `EMFILE` (and `ENFILE` when the
//! whole table is full), too many mappings is `mmap`'s `ENOMEM` (as Linux answers past
//! `vm.max_map_count`), and a full client table is a transient `EAGAIN`: it frees as soon
//! as some process closes its last handle. The client limit stays below `dma-pool`'s owner
//! table ([`dma_pool::DEFAULT_OWNER_CAPACITY`]), so a quota always finds room.
//!
//! The counts behind the per-process limits are kept in [`Usage`], one entry per process
//! holding a handle or a mapping, dropped with its last one; so its size is bounded by the
//! two totals.

use super::Server;
use crate::Refusal;
use dma_api::DmaError;

/// The bounds of dmad's tables (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Open handles one process may hold (`EMFILE` beyond).
    pub handles_per_client: usize,
    /// Open handles of all processes together (`ENFILE` beyond).
    pub handles: usize,
    /// Live mappings one process may hold (`ENOMEM` beyond).
    pub mappings_per_client: usize,
    /// Live mappings of all processes together (`ENOMEM` beyond).
    pub mappings: usize,
    /// Processes dmad keeps a client record for at once (`EAGAIN` beyond).
    pub clients: usize,
}

impl Limits {
    /// The limits dmad runs with.
    pub const DEFAULT: Limits = Limits {
        handles_per_client: 256,
        handles: 4096,
        mappings_per_client: 256,
        mappings: 8192,
        clients: 256,
    };
}

const _: () = assert!(Limits::DEFAULT.clients <= dma_pool::DEFAULT_OWNER_CAPACITY);

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// What one process holds in dmad's tables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Usage {
    /// Its open handles.
    pub handles: usize,
    /// Its live mappings (they outlive its handles).
    pub mappings: usize,
}

impl Server {
    /// What `pid` holds (zero if nothing).
    pub(super) fn usage(&self, pid: u32) -> Usage {
        self.usage.get(&pid).copied().unwrap_or_default()
    }

    /// Whether `pid` may open one more handle: `EMFILE`, `ENFILE` or (a process dmad keeps
    /// no record of yet) `EAGAIN` if not.
    pub(super) fn admit_handle(&self, pid: u32) -> Result<(), Refusal> {
        if self.usage(pid).handles >= self.limits.handles_per_client {
            return Err(DmaError::TooManyHandles.into());
        }
        if self.handles.len() >= self.limits.handles {
            return Err(DmaError::HandleTableFull.into());
        }
        if !self.clients.contains_key(&pid) && self.clients.len() >= self.limits.clients {
            return Err(DmaError::TooManyClients.into());
        }
        Ok(())
    }

    /// Whether `pid` may hold one more mapping: `ENOMEM` if not.
    pub(super) fn admit_mapping(&self, pid: u32) -> Result<(), Refusal> {
        if self.usage(pid).mappings >= self.limits.mappings_per_client {
            return Err(Refusal::new(
                DmaError::OutOfMemory,
                "too many mappings in this process",
            ));
        }
        if self.mappings.len() >= self.limits.mappings {
            return Err(Refusal::new(
                DmaError::OutOfMemory,
                "dmad's mapping table is full",
            ));
        }
        Ok(())
    }

    /// Changes `pid`'s counts by `change`, dropping its entry when it holds nothing.
    pub(super) fn count(&mut self, pid: u32, change: impl FnOnce(&mut Usage)) {
        let usage = self.usage.entry(pid).or_default();
        change(usage);
        if *usage == Usage::default() {
            self.usage.remove(&pid);
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Sets the limits (tests use small ones). Tables already past a new limit keep what
    /// they hold; only growth is refused.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }
}
