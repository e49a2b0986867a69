//! The virtio block device as a `driver_kit::server::BlockDevice`: each read or write is one
//! blocking virtio request, completed by polling the used ring (see the crate docs on
//! interrupts). The `disk:` loop itself is `driver_kit::server`.

use crate::hal::PoolHal;
use crate::transport::Transport;
use disk_api::{DiskError, Transfer, SECTOR_SIZE};
use driver_kit::options::CrashCounter;
use driver_kit::server::BlockDevice;
use log::{error, info};
use virtio_drivers::device::blk::{BlkReq, BlkResp, VirtIOBlk};

/// The virtio block device being served.
pub struct Disk {
    block: VirtIOBlk<PoolHal, Transport>,
    capacity: u64,
    read_only: bool,
    crash: CrashCounter,
}

impl Disk {
    /// Serves `block`; with `crash_after = Some(N)` the driver dies in the middle of its
    /// `N`th transfer (for the test of a driver that dies mid-I/O).
    pub fn new(block: VirtIOBlk<PoolHal, Transport>, crash_after: Option<u64>) -> Self {
        let capacity = block.capacity() * SECTOR_SIZE;
        let read_only = block.readonly();
        Disk {
            block,
            capacity,
            read_only,
            crash: CrashCounter::new(crash_after),
        }
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

    fn read(&mut self, transfer: Transfer, bytes: &mut [u8]) -> Result<(), DiskError> {
        self.count_transfer(transfer);
        self.block
            .read_blocks(transfer.sector() as usize, bytes)
            .map_err(|failure| {
                error!(
                    "reading {} bytes at {:#x}: {failure}",
                    transfer.length, transfer.offset
                );
                DiskError::Device
            })
    }

    fn write(&mut self, transfer: Transfer, bytes: &[u8]) -> Result<(), DiskError> {
        self.count_transfer(transfer);
        self.block
            .write_blocks(transfer.sector() as usize, bytes)
            .map_err(|failure| {
                error!(
                    "writing {} bytes at {:#x}: {failure}",
                    transfer.length, transfer.offset
                );
                DiskError::Device
            })
    }

    fn flush(&mut self) -> Result<(), DiskError> {
        self.block.flush().map_err(|failure| {
            error!("flush: {failure}");
            DiskError::Device
        })
    }
}
