//! `irq:NAME`: a device's interrupt for the process granted that device (the contract is
//! `kernel_core::abi::IRQ_SCHEME`; routing, masking and counting are `crate::interrupts`).
//!
//! `read` parks the holder on [`READERS`] until its line has an interrupt it was not told
//! of; the device-interrupt hook ([`fired`]) wakes it, and everyone in `SYS_WAIT_ANY` (an
//! `irq:` handle is [`Scheme::ready`] while `read` would not block). `write` acknowledges.
//! `close` — the last descriptor gone, also when the holder exits (`lifecycle`) — masks the
//! line and frees it for the next holder.

use crate::interrupts::{self, LineIndex};
use crate::object::{Handles, OpenRequest, Scheme, Sink, Source};
use crate::process::{self, WaitQueue};
use kernel_core::Error;

/// Each handle's line.
static HANDLES: Handles<LineIndex> = Handles::new();

/// Holders parked in `read` until their line's next interrupt.
static READERS: WaitQueue = WaitQueue::new();

/// Bytes of a count (`read`) and of an acknowledgement (`write`).
const COUNT_SIZE: usize = 8;

/// The `irq:` scheme.
pub struct Irq;

fn line(handle: u64) -> Result<LineIndex, Error> {
    HANDLES.with(handle, |line| *line)
}

/// The device-interrupt hook's work: interrupt `id` fired; its line is masked and counted,
/// and its holder (in `read` or `SYS_WAIT_ANY`) woken. Runs with no lock held (the kernel
/// masks interrupts while it runs).
pub fn fired(id: u32) {
    if interrupts::fired(id) {
        READERS.wake_all();
        process::READINESS.wake_all();
    }
}

impl Scheme for Irq {
    /// `NotFound` for an unknown device, `AccessDenied` without its grant, `Busy` while
    /// another process holds the line, `NoDevice` if its interrupt cannot be routed.
    fn open(&self, request: &OpenRequest<'_>) -> Result<u64, Error> {
        let name = request.path;
        let device = crate::devices::find(name).ok_or(Error::NotFound)?;
        if !request.caller.rights.may_use_device(name) {
            log::warn!(
                "process {} may not take the interrupts of device {name}",
                request.caller.name
            );
            return Err(Error::AccessDenied);
        }
        let line = interrupts::open(&device, request.caller.pid)?;
        HANDLES
            .insert(line)
            .inspect_err(|_| interrupts::release(line))
    }

    /// Blocks until the line has an interrupt not yet reported; writes its count (8 bytes,
    /// little-endian).
    fn read(&self, handle: u64, buffer: &mut dyn Sink) -> Result<usize, Error> {
        if buffer.len() < COUNT_SIZE {
            return Err(Error::InvalidArgument);
        }
        let line = line(handle)?;
        let count = READERS.wait_until(|| interrupts::take(line).transpose())??;
        buffer.copy_from(0, &count.to_le_bytes())?;
        Ok(COUNT_SIZE)
    }

    /// Any 8 bytes (by convention the count read): the interrupt is handled, unmask.
    fn write(&self, handle: u64, bytes: &dyn Source) -> Result<usize, Error> {
        if bytes.len() < COUNT_SIZE {
            return Err(Error::InvalidArgument);
        }
        interrupts::acknowledge(line(handle)?)?;
        Ok(COUNT_SIZE)
    }

    /// Ready while an interrupt is unreported.
    fn ready(&self, handle: u64) -> Result<bool, Error> {
        Ok(interrupts::ready(line(handle)?))
    }

    /// Masks the line and frees it; an unacknowledged interrupt waits for the next holder.
    fn close(&self, handle: u64) {
        if let Some(line) = HANDLES.remove(handle) {
            interrupts::release(line);
        }
    }
}
