//! The virtio block device as a `driver_kit::server::BlockDevice`: each read or write is one
//! virtio request, completed by interrupt or, as the fallback, by polling the used ring
//! (`completion`). The `disk:` loop itself is `driver_kit::server`.

use crate::completion;
use crate::hal::PoolHal;
use crate::transport::Transport;
use disk_api::{DiskError, Transfer, SECTOR_SIZE};
use driver_kit::completion::Completions;
use driver_kit::options::CrashCounter;
use driver_kit::server::{device_error, BlockDevice};
use log::{error, info};
use userlib::server::Requests;
use virtio_drivers::device::blk::{BlkReq, BlkResp, VirtIOBlk};

/// The virtio block device being served.
pub struct Disk {
    block: VirtIOBlk<PoolHal, Transport>,
    capacity: u64,
    read_only: bool,
    crash: CrashCounter,
    completions: Completions,
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
            crash: CrashCounter::new(crash_after),
            completions,
        }
    }

    /// `interrupt` or `polling`.
    pub fn mode(&self) -> &'static str {
        self.completions.mode()
    }

    /// Counts a transfer; at the `--crash-after` count, starts it and dies before it ends.
    fn count_transfer(&mut self, transfer: Transfer) {
        let Some(count) = self.crash.count() else {
            return;
        };
        info!(
            "--crash-after {count}: dying with a read of sector {} in flight",
            transfer.sector()
        );
        let request = alloc::boxed::Box::leak(alloc::boxed::Box::new(BlkReq::default()));
        let response = alloc::boxed::Box::leak(alloc::boxed::Box::new(BlkResp::default()));
        let data = alloc::boxed::Box::leak(alloc::vec![0u8; transfer.length].into_boxed_slice());
        // SAFETY: the three buffers are leaked, so they outlive the request, and nothing
        // touches them again; the device only ever sees bounce buffers anyway.
        let started = unsafe {
            self.block
                .read_blocks_nb(transfer.sector() as usize, request, data, response)
        };
        panic!("crashing on purpose (--crash-after), request started: {started:?}");
    }
}

impl BlockDevice for Disk {
    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn read(
        &mut self,
        transfer: Transfer,
        bytes: &mut [u8],
        requests: &mut Requests,
    ) -> Result<(), DiskError> {
        self.count_transfer(transfer);
        let sector = transfer.sector() as usize;
        completion::read(
            &mut self.completions,
            &mut self.block,
            sector,
            bytes,
            requests,
        )
        .map_err(device_error("reading", transfer))
    }

    fn write(
        &mut self,
        transfer: Transfer,
        bytes: &[u8],
        requests: &mut Requests,
    ) -> Result<(), DiskError> {
        self.count_transfer(transfer);
        let sector = transfer.sector() as usize;
        completion::write(
            &mut self.completions,
            &mut self.block,
            sector,
            bytes,
            requests,
        )
        .map_err(device_error("writing", transfer))
    }

    /// Polled (the crate has no split form of flush) with the device's interrupts off, so
    /// it raises none that the counters would see unpaired.
    fn flush(&mut self, _requests: &mut Requests) -> Result<(), DiskError> {
        self.block.disable_interrupts();
        let flushed = self.block.flush();
        if self.completions.interrupt().is_some() {
            self.block.enable_interrupts();
        }
        flushed.map_err(|failure| {
            error!("flush: {failure}");
            DiskError::Device
        })
    }

    fn status(&self, stashed: u64) -> alloc::string::String {
        self.completions.status_text(stashed)
    }
}
