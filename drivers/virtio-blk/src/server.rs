//! The `disk:` scheme: requests from clients, answered from the block device.
//!
//! One transfer at a time: each read or write is one virtio request; while it is in flight
//! the driver waits for its interrupt and reads (stashes) new requests, which it handles
//! after it (see `completion`).

use crate::completion::Completions;
use crate::hal::PoolHal;
use crate::transport::Transport;
use alloc::vec;
use alloc::vec::Vec;
use disk_api::{DiskError, Seek, Transfer, MAX_TRANSFER, SECTOR_SIZE};
use log::{error, info};
use userlib::server::{reply, Request, Requests};
use userlib::sys::error::{EBADF, ENODEV, ENOSYS};
use userlib::syscall::schemev2::Opcode;
use virtio_blk::{size_text_from, text_from, HandleKind, Handles};
use virtio_drivers::device::blk::{BlkReq, BlkResp, VirtIOBlk};

/// A reply: the result and its payload.
type Answer = (Result<u64, i32>, Vec<u8>);

/// The disk being served.
pub struct Disk {
    block: VirtIOBlk<PoolHal, Transport>,
    capacity: u64,
    read_only: bool,
    handles: Handles,
    dirty: Vec<u64>,
    crash_after: Option<u64>,
    transfers: u64,
    data: Vec<u8>,
    completions: Completions,
    stashed: u64,
}

impl Disk {
    /// Serves `block`; with `crash_after = Some(N)` the driver dies in the middle of its
    /// `N`th transfer (for the test of a driver that dies mid-I/O).
    pub fn new(
        block: VirtIOBlk<PoolHal, Transport>,
        completions: Completions,
        crash_after: Option<u64>,
    ) -> Self {
        let capacity = block.capacity() * SECTOR_SIZE;
        let read_only = block.readonly();
        Disk {
            block,
            capacity,
            read_only,
            handles: Handles::default(),
            dirty: Vec::new(),
            crash_after,
            transfers: 0,
            data: vec![0; MAX_TRANSFER],
            completions,
            stashed: 0,
        }
    }

    /// `interrupt` or `polling`.
    pub fn mode(&self) -> &'static str {
        self.completions.mode()
    }

    /// The `disk:/status` text (`disk_api::status`).
    fn status_text(&self) -> alloc::string::String {
        let counters = self.completions.counters;
        alloc::format!(
            "mode {}\ninterrupts {}\ncompletions {}\npolled {}\nstashed {}\ninherited {}\n",
            self.mode(),
            counters.interrupts,
            counters.completions,
            counters.polled,
            self.stashed,
            counters.inherited
        )
    }

    /// The disk's size in bytes.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Whether writes are refused.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Reads requests from `socket` and answers them, for ever; returns an exit status when
    /// the socket fails.
    pub fn serve(&mut self, socket: usize) -> i32 {
        let mut requests = Requests::new(socket);
        userlib::server::serve_with(&mut requests, "disk", |request, requests| {
            let (result, payload) = self.handle(&request, requests);
            self.stashed = requests.stashed();
            Some(reply(request.tag, result, &payload))
        })
    }

    fn handle(&mut self, request: &Request, requests: &mut Requests) -> Answer {
        let number = request.args[0];
        if request.is(Opcode::OpenAt) {
            let Ok(path) = core::str::from_utf8(request.payload) else {
                return refuse(DiskError::NotFound);
            };
            return match self.handles.open(path, request.caller, self.capacity) {
                Ok(handle) => (Ok(handle), Vec::new()),
                Err(error) => refuse(error),
            };
        }
        if request.is(Opcode::Close) {
            self.close(number);
            return (Ok(0), Vec::new());
        }
        let Some(handle) = self.handles.get(number) else {
            return (Err(EBADF), Vec::new());
        };
        match (handle.kind, request.opcode) {
            (HandleKind::Size, opcode) if opcode == Opcode::Read as u8 => {
                let capacity = request.args[2] as usize;
                let bytes = size_text_from(self.capacity, handle.position, capacity);
                self.handles
                    .set_position(number, handle.position + bytes.len() as u64);
                (Ok(bytes.len() as u64), bytes)
            }
            (HandleKind::Status, opcode) if opcode == Opcode::Read as u8 => {
                let capacity = request.args[2] as usize;
                let bytes = text_from(&self.status_text(), handle.position, capacity);
                self.handles
                    .set_position(number, handle.position + bytes.len() as u64);
                (Ok(bytes.len() as u64), bytes)
            }
            (HandleKind::Disk, opcode) if opcode == Opcode::Read as u8 => {
                self.read(number, handle.position, request.args[2] as usize, requests)
            }
            (HandleKind::Disk, opcode) if opcode == Opcode::Write as u8 => {
                self.write(number, handle.position, request.payload, requests)
            }
            (HandleKind::Disk, opcode) if opcode == Opcode::Call as u8 => {
                match Seek::from_bytes(request.payload, self.capacity) {
                    Ok(seek) => {
                        self.handles.set_position(number, seek.offset);
                        (Ok(Seek::SIZE as u64), seek.to_bytes().to_vec())
                    }
                    Err(error) => refuse(error),
                }
            }
            (_, opcode) if opcode == Opcode::MmapPrep as u8 => (Err(ENODEV), Vec::new()),
            (HandleKind::Size | HandleKind::Status, _) => refuse(DiskError::BadHandle),
            _ => (Err(ENOSYS), Vec::new()),
        }
    }

    fn read(
        &mut self,
        number: u64,
        position: u64,
        requested: usize,
        requests: &mut Requests,
    ) -> Answer {
        let transfer = match Transfer::check(position, requested, self.capacity, false) {
            Ok(transfer) => transfer,
            Err(error) => return refuse(error),
        };
        if transfer.length == 0 {
            return (Ok(0), Vec::new());
        }
        self.count_transfer(transfer);
        let bytes = &mut self.data[..transfer.length];
        let sector = transfer.sector() as usize;
        match self
            .completions
            .read(&mut self.block, sector, bytes, requests)
        {
            Ok(()) => {
                self.handles
                    .set_position(number, position + transfer.length as u64);
                (Ok(transfer.length as u64), bytes.to_vec())
            }
            Err(error) => {
                error!(
                    "reading {} bytes at {position:#x}: {error}",
                    transfer.length
                );
                refuse(DiskError::Device)
            }
        }
    }

    fn write(
        &mut self,
        number: u64,
        position: u64,
        bytes: &[u8],
        requests: &mut Requests,
    ) -> Answer {
        if self.read_only {
            return refuse(DiskError::ReadOnly);
        }
        let transfer = match Transfer::check(position, bytes.len(), self.capacity, true) {
            Ok(transfer) => transfer,
            Err(error) => return refuse(error),
        };
        if transfer.length == 0 {
            return (Ok(0), Vec::new());
        }
        self.count_transfer(transfer);
        let bytes = &bytes[..transfer.length];
        let sector = transfer.sector() as usize;
        match self
            .completions
            .write(&mut self.block, sector, bytes, requests)
        {
            Ok(()) => {
                self.handles
                    .set_position(number, position + transfer.length as u64);
                if !self.dirty.contains(&number) {
                    self.dirty.push(number);
                }
                (Ok(transfer.length as u64), Vec::new())
            }
            Err(error) => {
                error!(
                    "writing {} bytes at {position:#x}: {error}",
                    transfer.length
                );
                refuse(DiskError::Device)
            }
        }
    }

    /// Closes a handle; one that wrote is flushed to stable storage first.
    fn close(&mut self, number: u64) {
        self.handles.close(number);
        if let Some(index) = self.dirty.iter().position(|dirty| *dirty == number) {
            self.dirty.swap_remove(index);
            // The flush is polled (the crate has no split form of it) with the device's
            // interrupts off, so it raises none that the counters would see unpaired.
            self.block.disable_interrupts();
            if let Err(error) = self.block.flush() {
                error!("flush after handle {number} closed: {error}");
            }
            if self.completions.mode() == "interrupt" {
                self.block.enable_interrupts();
            }
        }
    }

    /// Counts a transfer; at the `--crash-after` count, starts it and dies before it ends.
    fn count_transfer(&mut self, transfer: Transfer) {
        self.transfers += 1;
        if self.crash_after != Some(self.transfers) {
            return;
        }
        info!(
            "--crash-after {}: dying with a read of sector {} in flight",
            self.transfers,
            transfer.sector()
        );
        let request = alloc::boxed::Box::leak(alloc::boxed::Box::new(BlkReq::default()));
        let response = alloc::boxed::Box::leak(alloc::boxed::Box::new(BlkResp::default()));
        let data = alloc::boxed::Box::leak(vec![0u8; transfer.length].into_boxed_slice());
        // SAFETY: the three buffers are leaked, so they outlive the request, and nothing
        // touches them again; the device only ever sees bounce buffers anyway.
        let started = unsafe {
            self.block
                .read_blocks_nb(transfer.sector() as usize, request, data, response)
        };
        panic!("crashing on purpose (--crash-after), request started: {started:?}");
    }
}

fn refuse(error: DiskError) -> Answer {
    (Err(error.errno()), Vec::new())
}
