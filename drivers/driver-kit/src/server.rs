//! The `disk:` request loop, shared by every block driver: handles, positions, seeks and
//! the interface's checks here; the device's reads, writes and flushes behind
//! [`BlockDevice`].
//!
//! One transfer at a time: each read or write is one device request. While it is in flight
//! the device waits for its completion with the [`Requests`] in hand — by interrupt, waiting
//! on its `irq:` descriptor and the scheme socket together and stashing requests that
//! arrive, which are handled after it (`crate::completion`). A handle that wrote is flushed
//! when it closes. `disk:/status` is the device's [`BlockDevice::status`] text.
//!
//! With [`DiskServer::watch_faults`], every transfer the device completed is followed by a
//! look at the device's IOMMU fault record (`crate::faults`): a fault that came meanwhile
//! turns the request into `EIO` (and the log says where the device was blocked), so a
//! client never takes for data what the device may not have moved.

use crate::faults::FaultWatch;
use crate::{size_text_from, text_from, HandleKind, Handles};
use alloc::vec;
use alloc::vec::Vec;
use disk_api::{DiskError, Seek, Transfer, MAX_TRANSFER};
use userlib::server::{reply, Request, Requests};
use userlib::sys::error::{EBADF, ENODEV, ENOSYS};
use userlib::syscall::schemev2::Opcode;

/// A reply: the result (a value or an errno) and its payload.
pub type Answer = (Result<u64, i32>, Vec<u8>);

/// A block device as the `disk:` loop drives it.
pub trait BlockDevice {
    /// The disk's size in bytes (a sector multiple).
    fn capacity(&self) -> u64;

    /// Whether writes are refused.
    fn read_only(&self) -> bool;

    /// Fills `bytes` (`transfer.length` of them) from the disk.
    ///
    /// # Errors
    ///
    /// [`DiskError::Device`] when the device failed.
    fn read(
        &mut self,
        transfer: Transfer,
        bytes: &mut [u8],
        requests: &mut Requests,
    ) -> Result<(), DiskError>;

    /// Writes `bytes` (`transfer.length` of them) to the disk.
    ///
    /// # Errors
    ///
    /// [`DiskError::Device`] when the device failed.
    fn write(
        &mut self,
        transfer: Transfer,
        bytes: &[u8],
        requests: &mut Requests,
    ) -> Result<(), DiskError>;

    /// Makes written data durable.
    ///
    /// # Errors
    ///
    /// [`DiskError::Device`] when the device failed.
    fn flush(&mut self, requests: &mut Requests) -> Result<(), DiskError>;

    /// The `disk:/status` text (`disk_api::status`), with `stashed` requests read while a
    /// transfer was in flight.
    fn status(&self, stashed: u64) -> alloc::string::String;

    /// A call on a disk handle that is not a seek (its payload is not 8 bytes); the default
    /// refuses it as malformed.
    fn call(&mut self, _payload: &[u8], _requests: &mut Requests) -> Answer {
        refuse(DiskError::Invalid)
    }
}

/// The disk being served.
pub struct DiskServer<D> {
    device: D,
    faults: Option<FaultWatch>,
    handles: Handles,
    dirty: Vec<u64>,
    data: Vec<u8>,
}

impl<D: BlockDevice> DiskServer<D> {
    /// Serves `device`.
    pub fn new(device: D) -> Self {
        DiskServer {
            device,
            faults: None,
            handles: Handles::default(),
            dirty: Vec::new(),
            data: vec![0; MAX_TRANSFER],
        }
    }

    /// Fails each transfer during which device `name` faulted (see the module doc); logs
    /// and goes on without if its record cannot be read.
    pub fn watch_faults(&mut self, name: &str) {
        match FaultWatch::open(name) {
            Ok(watch) => self.faults = Some(watch),
            Err(error) => log::warn!("{name}: cannot watch its IOMMU faults: {error}"),
        }
    }

    /// Whether the device faulted since the last look.
    fn faulted(&mut self) -> bool {
        self.faults
            .as_mut()
            .is_some_and(|watch| watch.new_fault().is_some())
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// Reads requests for scheme `scheme` from `socket` and answers them, for ever; returns
    /// an exit status when the socket fails.
    pub fn serve(&mut self, socket: usize, scheme: &str) -> i32 {
        let mut requests = Requests::new(socket);
        // The loop drops short messages and never answers one-way requests itself.
        userlib::server::serve_with(&mut requests, scheme, |request, requests| {
            let (result, payload) = self.handle(&request, requests);
            Some(reply(request.tag, result, &payload))
        })
    }

    /// Answers one request.
    pub fn handle(&mut self, request: &Request, requests: &mut Requests) -> Answer {
        let number = request.args[0];
        let capacity = self.device.capacity();
        if request.is(Opcode::OpenAt) {
            let Ok(path) = core::str::from_utf8(request.payload) else {
                return refuse(DiskError::NotFound);
            };
            return match self.handles.open(path, request.caller, capacity) {
                Ok(handle) => (Ok(handle), Vec::new()),
                Err(error) => refuse(error),
            };
        }
        if request.is(Opcode::Close) {
            self.close(number, requests);
            return (Ok(0), Vec::new());
        }
        let Some(handle) = self.handles.get(number) else {
            return (Err(EBADF), Vec::new());
        };
        match (handle.kind, request.opcode) {
            (HandleKind::Size, opcode) if opcode == Opcode::Read as u8 => {
                let bytes = size_text_from(capacity, handle.position, request.args[2] as usize);
                self.handles
                    .set_position(number, handle.position + bytes.len() as u64);
                (Ok(bytes.len() as u64), bytes)
            }
            (HandleKind::Status, opcode) if opcode == Opcode::Read as u8 => {
                let text = self.device.status(requests.stashed());
                let bytes = text_from(&text, handle.position, request.args[2] as usize);
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
                if request.payload.len() != Seek::SIZE {
                    let answer = self.device.call(request.payload, requests);
                    if answer.0.is_ok() && !self.dirty.contains(&number) {
                        self.dirty.push(number);
                    }
                    return answer;
                }
                match Seek::from_bytes(request.payload, capacity) {
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
        let transfer = match Transfer::check(position, requested, self.device.capacity(), false) {
            Ok(transfer) => transfer,
            Err(error) => return refuse(error),
        };
        if transfer.length == 0 {
            return (Ok(0), Vec::new());
        }
        let bytes = &mut self.data[..transfer.length];
        let result = self.device.read(transfer, bytes, requests);
        if result.is_ok() && self.faulted() {
            return refuse(DiskError::Device);
        }
        let bytes = &mut self.data[..transfer.length];
        match result {
            Ok(()) => {
                self.handles
                    .set_position(number, position + transfer.length as u64);
                (Ok(transfer.length as u64), bytes.to_vec())
            }
            Err(error) => refuse(error),
        }
    }

    fn write(
        &mut self,
        number: u64,
        position: u64,
        bytes: &[u8],
        requests: &mut Requests,
    ) -> Answer {
        if self.device.read_only() {
            return refuse(DiskError::ReadOnly);
        }
        let transfer = match Transfer::check(position, bytes.len(), self.device.capacity(), true) {
            Ok(transfer) => transfer,
            Err(error) => return refuse(error),
        };
        if transfer.length == 0 {
            return (Ok(0), Vec::new());
        }
        let result = self
            .device
            .write(transfer, &bytes[..transfer.length], requests);
        if result.is_ok() && self.faulted() {
            return refuse(DiskError::Device);
        }
        match result {
            Ok(()) => {
                self.handles
                    .set_position(number, position + transfer.length as u64);
                if !self.dirty.contains(&number) {
                    self.dirty.push(number);
                }
                (Ok(transfer.length as u64), Vec::new())
            }
            Err(error) => refuse(error),
        }
    }

    /// Closes a handle; one that wrote is flushed to stable storage first.
    fn close(&mut self, number: u64, requests: &mut Requests) {
        self.handles.close(number);
        if let Some(index) = self.dirty.iter().position(|dirty| *dirty == number) {
            self.dirty.swap_remove(index);
            if let Err(error) = self.device.flush(requests) {
                log::error!("flush after handle {number} closed: {error:?}");
            }
        }
    }
}

/// For a device's failed `transfer`: logs `ACTION LENGTH bytes at OFFSET: FAILURE` and
/// names it [`DiskError::Device`] (`action` is `reading` or `writing`).
pub fn device_error<E: core::fmt::Display>(
    action: &'static str,
    transfer: Transfer,
) -> impl FnOnce(E) -> DiskError {
    move |failure| {
        log::error!(
            "{action} {} bytes at {:#x}: {failure}",
            transfer.length,
            transfer.offset
        );
        DiskError::Device
    }
}

/// The answer refusing a request with `error`.
pub fn refuse(error: DiskError) -> Answer {
    (Err(error.errno()), Vec::new())
}
