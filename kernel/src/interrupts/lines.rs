//! The interrupt lines the kernel delivers to processes: one per device, connected the
//! first time its holder opens it, never disconnected.
//!
//! A line's life: [`open`] by a process granted the device (one holder at a time) arms it;
//! the interrupt fires ([`fired`], from the CPU port's hook): the line is masked, its count
//! goes up, it is *unacknowledged*, and the holder is woken; the holder's `read` ([`take`])
//! reports the count once; its `write` ([`acknowledge`]) unmasks. [`release`] (close, or
//! the holder's exit) masks the line and keeps an unacknowledged interrupt for the next
//! holder, whose first `read` reports it at once.
//!
//! Locking: the line table's lock may be held while the process table's is taken (to wake
//! a holder), never the other way round. The kernel runs with interrupts masked, so the hook
//! never finds the table locked on this CPU.

use super::msix;
use crate::arch::Cpu;
use crate::devices::Device;
use crate::memory::kernel_space;
use crate::process::{self, ProcessId, State};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use kernel_core::interrupt::{Busy, InterruptControl, LineState, Polarity, WiredLine};
use kernel_core::CacheType;
use redox_syscall::error::{EBADF, EBUSY, ENODEV};
use spin::Mutex;

/// How a line is masked.
#[derive(Clone, Copy, Debug)]
enum Masking {
    /// At the interrupt controller (GIC SPI, I/O APIC entry).
    Controller,
    /// At the device: an MSI-X table entry's mask bit.
    Msix(msix::Entry),
}

/// One device's interrupt.
struct Line {
    device: String,
    /// The id the CPU port reports (GIC interrupt id, x86 vector).
    id: u32,
    masking: Masking,
    /// `msi-x`, `wired-edge`, `wired-level`: for `sys:interrupts`.
    source: &'static str,
    state: LineState,
}

impl Line {
    /// Makes the hardware mask what the state says.
    fn apply_mask(&self) {
        let masked = self.state.masked();
        match self.masking {
            Masking::Controller if masked => Cpu::mask(self.id),
            Masking::Controller => Cpu::unmask(self.id),
            Masking::Msix(entry) => entry.set_masked(masked),
        }
    }
}

static LINES: Mutex<Vec<Line>> = Mutex::new(Vec::new());

/// A held line, by its index in the table.
pub type LineIndex = usize;

/// Connects `device`'s interrupt: MSI-X where the function has it and the CPU port offers
/// messages, else its wired line.
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
    let (id, message) = Cpu::connect_message()?;
    let entry = msix::connect(config, message)?;
    Some((id, Masking::Msix(entry), "msi-x"))
}

/// Makes the running process `holder` of `device`'s line (the caller checked the grant).
/// `EBUSY` if someone holds it, `ENODEV` if the device has no interrupt the kernel can route.
pub fn open(device: &Device, holder: ProcessId) -> Result<LineIndex, i32> {
    let mut lines = LINES.lock();
    let index = match lines.iter().position(|line| line.device == device.name) {
        Some(index) => index,
        None => {
            let line = connect(device).ok_or(ENODEV)?;
            lines.push(line);
            lines.len() - 1
        }
    };
    let line = &mut lines[index];
    line.state.open(holder).map_err(|Busy| EBUSY)?;
    line.apply_mask();
    Ok(index)
}

/// The hook's work: interrupt `id` fired. Masks its line, counts it, wakes its holder.
pub fn fired(id: u32) {
    let mut lines = LINES.lock();
    let Some(line) = lines.iter_mut().find(|line| line.id == id) else {
        return;
    };
    let holder = line.state.fire();
    line.apply_mask();
    if let Some(holder) = holder {
        process::with(|table| {
            table.wake_if(holder, |state| {
                matches!(
                    state,
                    State::WaitingForInterrupt | State::WaitingForEvents(_)
                )
            })
        });
    }
}

/// `read`: the line's count once per interrupt; `None` while there is nothing to report.
pub fn take(index: LineIndex) -> Result<Option<u64>, i32> {
    let mut lines = LINES.lock();
    Ok(lines.get_mut(index).ok_or(EBADF)?.state.take())
}

/// Whether `read` on the line would return at once.
pub fn ready(index: LineIndex) -> bool {
    LINES
        .lock()
        .get(index)
        .is_some_and(|line| line.state.ready())
}

/// `write`: the holder handled the interrupt; the line is unmasked.
pub fn acknowledge(index: LineIndex) -> Result<(), i32> {
    let mut lines = LINES.lock();
    let line = lines.get_mut(index).ok_or(EBADF)?;
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
pub fn table_text() -> String {
    let mut text = String::new();
    for line in LINES.lock().iter() {
        let state = line.state;
        let holder = state
            .holder()
            .map_or(String::from("-"), |pid| alloc::format!("{pid}"));
        let yes = |flag: bool| if flag { "yes" } else { "no" };
        let _ = writeln!(
            text,
            "{} {} id {} holder {holder} count {} masked {} unacknowledged {}",
            line.device,
            line.source,
            line.id,
            state.count(),
            yes(state.masked()),
            yes(state.unacknowledged())
        );
    }
    text
}
