//! The controller as a `disk:` block device, plus the driver's own calls: bulk transfers
//! (`disk_api::bulk`) and `info`.

use crate::controller::Controller;
use alloc::format;
use alloc::vec::Vec;
use disk_api::bulk::{digest, Bulk, BulkKind};
use disk_api::image::generation_byte;
use disk_api::{DiskError, Transfer, SECTOR_SIZE};
use driver_kit::options::CrashCounter;
use driver_kit::server::{device_error, refuse, Answer, BlockDevice};
use userlib::server::Requests;

/// The call payload that asks for the driver's description ([`NvmeDisk::info`]); zero bytes
/// may follow it.
pub const INFO_CALL: &[u8] = b"info";

/// Namespace 1 of the controller, served as a disk.
pub struct NvmeDisk {
    controller: Controller,
    device: &'static str,
    crash: CrashCounter,
}

impl NvmeDisk {
    /// Serves `controller`, whose memory comes from `device`'s pool; with `crash_after =
    /// Some(N)` the driver dies with its `N`th read or write in flight (for the test of a
    /// driver that dies mid-I/O).
    pub fn new(controller: Controller, device: &'static str, crash_after: Option<u64>) -> Self {
        NvmeDisk {
            controller,
            device,
            crash: CrashCounter::new(crash_after),
        }
    }

    /// Counts a transfer; at the `--crash-after` count, starts it and dies before it ends.
    fn count_transfer(&mut self, transfer: Transfer) {
        let Some(count) = self.crash.count() else {
            return;
        };
        let blocks = (transfer.length as u64 / SECTOR_SIZE) as u32;
        let started = self.controller.start_read(transfer.sector(), blocks);
        panic!(
            "crashing on purpose (--crash-after {count}), read of block {} started: {started:?}",
            transfer.sector()
        );
    }

    /// The controller.
    pub fn controller(&self) -> &Controller {
        &self.controller
    }

    /// The text of the `info` call: identity, namespace, wait mode, and every DMA buffer.
    pub fn info(&self) -> alloc::string::String {
        let controller = &self.controller;
        let (major, minor, tertiary) = controller.version;
        format!(
            "device {}\nversion {major}.{minor}.{tertiary}\nmodel {}\nserial {}\nfirmware {}\nnamespace-blocks {}\nblock-size {}\ncompletions {}\n{}",
            self.device,
            controller.identity.model,
            controller.identity.serial,
            controller.identity.firmware,
            controller.namespace.blocks,
            controller.namespace.block_size,
            controller.wait_mode(),
            controller.buffers()
        )
    }

    fn bulk(&mut self, request: Bulk, requests: &mut Requests) -> Answer {
        let bytes = request.count as usize * SECTOR_SIZE as usize;
        let write = match request.kind {
            BulkKind::ReadDigest => false,
            BulkKind::WriteGeneration(generation) => {
                let data = &mut self.controller.data()[..bytes];
                for (index, byte) in data.iter_mut().enumerate() {
                    let sector = request.sector + (index / SECTOR_SIZE as usize) as u64;
                    *byte = generation_byte(sector, generation, index % SECTOR_SIZE as usize);
                }
                true
            }
        };
        if let Err(error) = self
            .controller
            .transfer(write, request.sector, request.count, requests)
        {
            log::error!("bulk {request:?}: {error}");
            return refuse(DiskError::Device);
        }
        if write {
            (Ok(0), Vec::new())
        } else {
            let value = digest(&self.controller.data()[..bytes]);
            (Ok(8), value.to_le_bytes().to_vec())
        }
    }
}

impl BlockDevice for NvmeDisk {
    fn capacity(&self) -> u64 {
        self.controller.namespace.bytes()
    }

    fn read_only(&self) -> bool {
        false
    }

    fn read(
        &mut self,
        transfer: Transfer,
        bytes: &mut [u8],
        requests: &mut Requests,
    ) -> Result<(), DiskError> {
        self.count_transfer(transfer);
        self.controller
            .read_into(transfer.sector(), &mut bytes[..transfer.length], requests)
            .map_err(device_error("reading", transfer))
    }

    fn write(
        &mut self,
        transfer: Transfer,
        bytes: &[u8],
        requests: &mut Requests,
    ) -> Result<(), DiskError> {
        self.count_transfer(transfer);
        self.controller
            .write_from(transfer.sector(), &bytes[..transfer.length], requests)
            .map_err(device_error("writing", transfer))
    }

    fn flush(&mut self, requests: &mut Requests) -> Result<(), DiskError> {
        self.controller.flush(requests).map_err(|error| {
            log::error!("flush: {error}");
            DiskError::Device
        })
    }

    fn status(&self, stashed: u64) -> alloc::string::String {
        self.controller.status(stashed)
    }

    fn call(&mut self, payload: &[u8], requests: &mut Requests) -> Answer {
        // A client's call buffer is both its input and its reply space, so the name may be
        // followed by zero bytes.
        let end = payload
            .iter()
            .rposition(|byte| *byte != 0)
            .map_or(0, |last| last + 1);
        if &payload[..end] == INFO_CALL {
            let text = self.info().into_bytes();
            return (Ok(text.len() as u64), text);
        }
        let sectors = self.capacity() / SECTOR_SIZE;
        match Bulk::from_bytes(payload, sectors) {
            Ok(request) => self.bulk(request, requests),
            Err(error) => refuse(error),
        }
    }
}
