//! The virtio side of waiting for the device (the waiting itself is
//! `driver_kit::completion`): routing the queue to the interrupt, clearing the device's
//! interrupt status (ISR) on each interrupt, and submitting and completing requests around
//! the wait.

use crate::hal::PoolHal;
use crate::transport::Transport;
use core::time::Duration;
use driver_kit::completion::Completions;
use userlib::server::Requests;
use virtio_drivers::device::blk::{BlkReq, BlkResp, VirtIOBlk};

/// The driven device.
type Block = VirtIOBlk<PoolHal, Transport>;

/// How long one request may take.
const PATIENCE: Duration = Duration::from_secs(10);

/// Takes `device`'s interrupt if it can (routing a PCI function's queue to MSI-X entry 0
/// through `common_configuration`), else falls back to polling, and says which.
pub fn start(device: &str, block: &mut Block, common_configuration: Option<u64>) -> Completions {
    let mut completions = Completions::open(device);
    if completions.interrupt().is_none() {
        return completions;
    }
    if let Some(physical) = common_configuration {
        if let Err(reason) = crate::transport::route_queue_to_entry_zero(physical) {
            completions.fall_back(&reason);
            return completions;
        }
    }
    // The device was reset since a dead predecessor's last interrupt.
    completions.take_inherited(|| {
        block.ack_interrupt();
    });
    block.enable_interrupts();
    completions
}

/// Reads `bytes` from sector `sector` on, waiting for the completion.
///
/// # Errors
///
/// The device's or the ring's error.
pub fn read(
    completions: &mut Completions,
    block: &mut Block,
    sector: usize,
    bytes: &mut [u8],
    requests: &mut Requests,
) -> virtio_drivers::Result {
    let (mut header, mut status) = (BlkReq::default(), BlkResp::default());
    // SAFETY: the header, data and status buffers stay borrowed here until the request
    // completes (`wait` returns only once the device has used it).
    let token = unsafe { block.read_blocks_nb(sector, &mut header, bytes, &mut status) }?;
    wait(completions, block, token, requests)?;
    // SAFETY: the same buffers as submitted, and the device has used them.
    unsafe { block.complete_read_blocks(token, &header, bytes, &mut status) }
}

/// Writes `bytes` from sector `sector` on, waiting for the completion.
///
/// # Errors
///
/// The device's or the ring's error.
pub fn write(
    completions: &mut Completions,
    block: &mut Block,
    sector: usize,
    bytes: &[u8],
    requests: &mut Requests,
) -> virtio_drivers::Result {
    let (mut header, mut status) = (BlkReq::default(), BlkResp::default());
    // SAFETY: as in `read`.
    let token = unsafe { block.write_blocks_nb(sector, &mut header, bytes, &mut status) }?;
    wait(completions, block, token, requests)?;
    // SAFETY: as in `read`.
    unsafe { block.complete_write_blocks(token, &header, bytes, &mut status) }
}

/// Waits until the device has used request `token`, stashing requests that arrive
/// meanwhile. A request that never completes is a device error (its buffers stay borrowed
/// by the ring, so the caller must not reuse them: `complete_*` then fails too).
fn wait(
    completions: &mut Completions,
    block: &mut Block,
    token: u16,
    requests: &mut Requests,
) -> virtio_drivers::Result {
    let block = core::cell::RefCell::new(block);
    completions
        .wait(
            Some(requests),
            PATIENCE,
            &mut || {
                block.borrow_mut().ack_interrupt();
            },
            &mut || block.borrow_mut().peek_used() == Some(token),
        )
        .map_err(|_| virtio_drivers::Error::IoError)
}

/// For tests (`--exit-unacknowledged`): reads sector 0, takes its interrupt and returns
/// its count without acknowledging it.
pub fn take_without_acknowledging(completions: &Completions, block: &mut Block) -> Option<u64> {
    let interrupt = completions.interrupt()?;
    let (mut request, mut response) = (BlkReq::default(), BlkResp::default());
    let mut sector = [0u8; 512];
    // SAFETY: the three buffers live on this frame until the request completes below
    // (the interrupt says the device used it; `complete_read_blocks` takes it back).
    let token =
        unsafe { block.read_blocks_nb(0, &mut request, &mut sector, &mut response) }.ok()?;
    let count = interrupt.wait().ok()?;
    while block.peek_used() != Some(token) {
        core::hint::spin_loop();
    }
    // SAFETY: the same buffers as submitted, and the device has used them.
    unsafe { block.complete_read_blocks(token, &request, &mut sector, &mut response) }.ok()?;
    Some(count)
}
