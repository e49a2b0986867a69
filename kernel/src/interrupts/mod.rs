//! Device interrupt lines for driver processes: routing, masking, counting. The `irq:`
//! scheme (`schemes::irq`) hands them to processes and parks their readers; this module
//! knows nothing of processes.
//!
//! A process granted device `NAME` (manifest `devices`) opens `irq:NAME`: `read` blocks
//! until the device interrupts and returns the line's count of interrupts as 8
//! little-endian bytes; `write` (any 8 bytes, by convention the count read) acknowledges
//! and re-arms. The line is masked from the moment it fires until the
//! holder acknowledges it, so a level-triggered device cannot storm and an edge is never
//! doubled; an interrupt arriving while masked stays pending at the controller (or in the
//! MSI-X pending bits) and is delivered on unmask, so none is lost. One holder per line
//! (`EBUSY`); a process not granted the device gets `EACCES`; when the holder closes or
//! exits, the line is masked and free, and an interrupt it left unacknowledged is reported
//! to the next holder's first `read`. `sys:interrupts` lists every connected line.
//!
//! Routing (the CPU port's [`kernel_core::interrupt::InterruptControl`]): a PCI function
//! with MSI-X gets a message interrupt the kernel programs into the function's table
//! ([`msix`]; a function with only plain MSI gets its one message there too, masked in the
//! kernel; the CPU port gives the message's address and data: x86_64 a local APIC vector,
//! aarch64 an edge SPI of the GICv2m frame — GICv3's ITS is not driven, so there, and
//! without a frame, PCI functions fall back to INTx); otherwise the device's wired line from
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
//! Waiting on several things at once is a system call, `SYS_WAIT_ANY` (`syscall::waiting`),
//! rather than an `event:` scheme: a server passes its scheme socket and its `irq:`
//! descriptors and learns which one is ready, with no registration state to keep in step
//! with closes. It asks each handle's scheme (`object::Scheme::ready`). Readiness is
//! level-like: a socket is ready while a request is queued, an `irq:` descriptor while an
//! interrupt is unreported.

mod lines;
mod msix;

pub use lines::{acknowledge, fired, open, ready, release, take, write_table, LineIndex};
