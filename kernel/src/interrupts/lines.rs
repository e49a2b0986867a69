//! The interrupt lines the kernel delivers to processes: one per device, connected the
//! first time its holder opens it, never disconnected.
//!
//! A line's life: [`open`] by a process granted the device (one holder at a time) arms it;
//! the interrupt fires ([`fired`], from the CPU port's hook): the line is masked, its count
//! goes up, it is *unacknowledged* (the `irq:` scheme then wakes the holder); the holder's
//! `read` ([`take`]) reports the count once; its `write` ([`acknowledge`]) unmasks.
//! [`release`] (the handle's close, also at the holder's exit) masks the line and keeps an
//! unacknowledged interrupt for the next holder, whose first `read` reports it at once.
//!
//! Locking: the line table's lock takes only the kernel's address space (connecting maps
//! registers), the frame allocator and leaves; it is released before anyone is woken. The
//! kernel runs with interrupts masked, so the hook never finds the table locked on this CPU.

use super::msix;
use crate::arch::Cpu;
use crate::devices::Device;
use crate::memory::kernel_space;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};
use kernel_core::interrupt::{Busy, InterruptControl, LineState, Polarity, WiredLine};
use kernel_core::{CacheType, Error};
use spin::Mutex;

/// How a line is masked.
#[derive(Clone, Copy, Debug)]
enum Masking {
    /// At the interrupt controller (GIC SPI, I/O APIC entry).
    Controller,
    /// At the device: an MSI-X table entry's mask bit.
    Msix(msix::Entry),
    /// In the kernel (plain MSI, which may have no mask bit): a message arriving while the
    /// line is masked sets `Line::pending` and is delivered on unmask.
    Software,
}

/// One device's interrupt.
struct Line {
    device: String,
    /// The id the CPU port reports (GIC interrupt id, x86 vector).
    id: u32,
    masking: Masking,
    /// `msi-x`, `msi`, `wired-edge`, `wired-level`: for `sys:interrupts`.
    source: &'static str,
    state: LineState,
    /// A software-masked line's message that arrived while it was masked.
    pending: bool,
}

impl Line {
    /// Makes the hardware mask what the state says. A software-masked line unmasked with a
    /// message pending fires at once (and is masked again). Nobody needs waking then: a line
    /// is unmasked only by its holder's own `open` or acknowledgement, and its next `read`
    /// or wait finds the interrupt ready.
    fn apply_mask(&mut self) {
        let masked = self.state.masked();
        match self.masking {
            Masking::Controller if masked => Cpu::mask(self.id),
            Masking::Controller => Cpu::unmask(self.id),
            Masking::Msix(entry) => entry.set_masked(masked),
            Masking::Software if !masked && self.pending => {
                self.pending = false;
                let _ = self.state.fire();
            }
            Masking::Software => {}
        }
    }
}

static LINES: Mutex<Vec<Line>> = Mutex::new(Vec::new());

/// A held line, by its index in the table.
pub type LineIndex = usize;

/// Connects `device`'s interrupt: MSI-X where the function has it, the CPU port offers
/// messages and no IOMMU would block them (`iommu::blocks_messages_of`), else its wired line.
fn connect(device: &Device) -> Option<Line> {
    let (id, masking, source) = match message_interrupt(device) {
        Some(connected) => connected,
        None => {
            if device.pci.is_some() && routes_intx_through_acpi() {
                log::warn!(
                    "interrupts: {} has no MSI-X, and its INTx routing is in ACPI's _PRT \
                     (AML), which the kernel does not read",
                    device.name
                );
                return None;
            }
            let line = WiredLine {
                number: device.interrupt?,
                trigger: device.trigger,
                polarity: Polarity::ActiveHigh,
            };
            let mut map = |physical: u64, size: u64| {
                kernel_space::map_device(physical, size, CacheType::Device).unwrap_or(0)
            };
            let id = Cpu::connect_line(line, &mut map)?;
            let source = match device.trigger {
                kernel_core::interrupt::Trigger::Edge => "wired-edge",
                kernel_core::interrupt::Trigger::Level => "wired-level",
            };
            (id, Masking::Controller, source)
        }
    };
    log::info!(
        "interrupts: {} connected as {source} (id {id}), masked",
        device.name
    );
    Some(Line {
        device: device.name.clone(),
        id,
        masking,
        source,
        state: LineState::new(),
        pending: false,
    })
}

/// Whether PCI INTx is routed by ACPI (I/O APICs, x86): a function's interrupt-line register
/// then names a legacy PIC input, not the I/O APIC input its pin reaches.
fn routes_intx_through_acpi() -> bool {
    crate::platform::machine_description()
        .io_apics()
        .next()
        .is_some()
}

fn message_interrupt(device: &Device) -> Option<(u32, Masking, &'static str)> {
    let config = device.pci?.config;
    if crate::iommu::blocks_messages_of(&device.name) {
        log::info!(
            "interrupts: {}: the SMMU would translate its MSI writes and its domain maps no \
             doorbell; using its wired line",
            device.name
        );
        return None;
    }
    let (id, message) = Cpu::connect_message()?;
    if let Some(entry) = msix::connect(config, message) {
        return Some((id, Masking::Msix(entry), "msi-x"));
    }
    msix::connect_msi(config, message).then_some((id, Masking::Software, "msi"))
}

/// Makes process `holder` the holder of `device`'s line (the caller checked the grant).
/// `Busy` if someone holds it, `NoDevice` if the device has no interrupt the kernel can
/// route.
pub fn open(device: &Device, holder: u32) -> Result<LineIndex, Error> {
    let mut lines = LINES.lock();
    let index = match lines.iter().position(|line| line.device == device.name) {
        Some(index) => index,
        None => {
            lines.try_reserve(1)?;
            let line = connect(device).ok_or(Error::NoDevice)?;
            lines.push(line);
            lines.len() - 1
        }
    };
    let line = &mut lines[index];
    line.state.open(holder).map_err(|Busy| Error::Busy)?;
    line.apply_mask();
    Ok(index)
}

/// The hook's work: interrupt `id` fired. Masks its line and counts it; `true` if a holder
/// is there to be woken.
pub fn fired(id: u32) -> bool {
    let mut lines = LINES.lock();
    let Some(line) = lines.iter_mut().find(|line| line.id == id) else {
        return false;
    };
    if matches!(line.masking, Masking::Software) && line.state.masked() {
        line.pending = true;
        return false;
    }
    let holder = line.state.fire();
    line.apply_mask();
    holder.is_some()
}

/// `read`: the line's count once per interrupt; `None` while there is nothing to report.
pub fn take(index: LineIndex) -> Result<Option<u64>, Error> {
    let mut lines = LINES.lock();
    Ok(lines
        .get_mut(index)
        .ok_or(Error::BadDescriptor)?
        .state
        .take())
}

/// Whether `read` on the line would return at once.
pub fn ready(index: LineIndex) -> bool {
    LINES
        .lock()
        .get(index)
        .is_some_and(|line| line.state.ready())
}

/// `write`: the holder handled the interrupt; the line is unmasked.
pub fn acknowledge(index: LineIndex) -> Result<(), Error> {
    let mut lines = LINES.lock();
    let line = lines.get_mut(index).ok_or(Error::BadDescriptor)?;
    line.state.acknowledge();
    line.apply_mask();
    Ok(())
}

/// The holder closed the line (or exited): masked, free for the next holder, and an
/// unacknowledged interrupt kept for it.
pub fn release(index: LineIndex) {
    let mut lines = LINES.lock();
    if let Some(line) = lines.get_mut(index) {
        let unacknowledged = line.state.release();
        line.apply_mask();
        if unacknowledged {
            log::info!(
                "interrupts: {} released with an unacknowledged interrupt; masked until the \
                 next holder acknowledges it",
                line.device
            );
        }
    }
}

/// `sys:interrupts`: one line per connected interrupt,
/// `DEVICE SOURCE id N holder PID|- count N masked yes|no unacknowledged yes|no`.
pub fn write_table(text: &mut dyn Write) -> fmt::Result {
    let yes = |flag: bool| if flag { "yes" } else { "no" };
    for line in LINES.lock().iter() {
        let state = line.state;
        write!(
            text,
            "{} {} id {} holder ",
            line.device, line.source, line.id
        )?;
        match state.holder() {
            Some(pid) => write!(text, "{pid}")?,
            None => write!(text, "-")?,
        }
        writeln!(
            text,
            " count {} masked {} unacknowledged {}",
            state.count(),
            yes(state.masked()),
            yes(state.unacknowledged())
        )?;
    }
    Ok(())
}
