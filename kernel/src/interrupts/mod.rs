//! Device interrupts delivered to driver processes: routing, masking, waiting.
//!
//! A process granted device `NAME` (manifest `devices`) opens `irq:NAME` (see
//! `schemes::irq`): `read` blocks until the device interrupts and returns the line's count
//! of interrupts as 8 little-endian bytes; `write` (any 8 bytes, by convention the count
//! read) acknowledges and re-arms. The line is masked from the moment it fires until the
//! holder acknowledges it, so a level-triggered device cannot storm and an edge is never
//! doubled; an interrupt arriving while masked stays pending at the controller (or in the
//! MSI-X pending bits) and is delivered on unmask, so none is lost. One holder per line
//! (`EBUSY`); a process not granted the device gets `EACCES`; when the holder closes or
//! exits, the line is masked and free, and an interrupt it left unacknowledged is reported
//! to the next holder's first `read`. `sys:interrupts` lists every connected line.
//!
//! Routing (the CPU port's [`kernel_core::interrupt::InterruptControl`]): a PCI function
//! with MSI-X gets a message interrupt the kernel programs into the function's table
//! ([`msix`]; x86_64 only, aarch64 has no MSI yet); otherwise the device's wired line from
//! the firmware tables (aarch64: a GIC SPI from `interrupts` / the PCI bridge's
//! `interrupt-map`, edge or level as the tree says; x86_64: an I/O APIC input, with the
//! MADT's overrides applied by `kernel_core::interrupt::io_apic::isa_line`). The kernel masks
//! MSI-X at the device and wired lines at the controller. The rules of one line are
//! [`kernel_core::interrupt::LineState`], tested on the host.
//!
//! Trust: a driver maps its whole device, MSI-X table included, so without an IOMMU's
//! interrupt remapping it could rewrite its own message; the kernel's guarantee is that it
//! never needs to, and that masking and counting happen in the kernel.
//!
//! Waiting on several things at once is a system call, `SYS_WAIT_ANY` ([`wait`]), rather
//! than an `event:` scheme: a server passes its scheme socket and its `irq:` descriptors and
//! learns which one is ready, with no registration state to keep in step with closes, and
//! nothing in the kernel that the scheme-trait refactor would have to carry. Readiness is
//! level-like: a socket is ready while a request is queued, an `irq:` descriptor while an
//! interrupt is unreported.

mod lines;
mod msix;
pub mod wait;

pub use lines::table_text;

use crate::devices::Device;
use crate::process::{self, ProcessId, State};
use redox_syscall::error::EINVAL;

/// A process's hold on one line (an `irq:` descriptor). Dropping it releases the line —
/// the descriptor's last close, or its holder's exit.
pub struct Holder {
    index: lines::LineIndex,
}

impl Drop for Holder {
    fn drop(&mut self) {
        lines::release(self.index);
    }
}

impl Holder {
    /// Takes `device`'s line for `holder` (the caller checked the grant).
    pub fn open(device: &Device, holder: ProcessId) -> Result<Self, i32> {
        lines::open(device, holder).map(|index| Holder { index })
    }

    /// The line's number in the table, for [`read`], [`acknowledge`] and waiting.
    pub fn index(&self) -> usize {
        self.index
    }
}

/// Blocks until line `index` has an interrupt the holder has not been told about; returns
/// the line's count.
pub fn read(index: usize) -> Result<u64, i32> {
    loop {
        if let Some(count) = lines::take(index)? {
            return Ok(count);
        }
        // No interrupt can arrive between the check and here: the kernel runs masked.
        process::with(|table| table.running().state = State::WaitingForInterrupt);
        process::reschedule(false);
    }
}

/// Acknowledges line `index`'s interrupt and unmasks it. `bytes` must be 8 long.
pub fn acknowledge(index: usize, bytes: &[u8]) -> Result<usize, i32> {
    if bytes.len() < 8 {
        return Err(EINVAL);
    }
    lines::acknowledge(index)?;
    Ok(8)
}

/// Whether `read` on line `index` would return at once.
pub fn ready(index: usize) -> bool {
    lines::ready(index)
}

/// The CPU port's hook: device interrupt `id` arrived (interrupts masked, no switch).
#[no_mangle]
pub fn kernel_device_interrupt(id: u32) {
    lines::fired(id);
}
