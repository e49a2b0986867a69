//! The interrupt-controller contract for device interrupts delivered to driver processes.
//!
//! Each CPU port implements [`InterruptControl`] next to `Arch`: it connects a wired line
//! (aarch64: a GIC SPI; x86_64: an I/O APIC input) or hands out a vector for a
//! message-signalled interrupt (x86_64: a local-APIC vector and the MSI address/data that
//! reaches it), and masks or unmasks what it connected. When a connected interrupt arrives,
//! the port calls the kernel's hook (`#[no_mangle]`)
//!
//! ```ignore
//! /// A device interrupt `id` (as `connect_*` returned it) arrived; masked by the kernel
//! /// before the port signals end-of-interrupt.
//! fn kernel_device_interrupt(id: u32);
//! ```
//!
//! with interrupts masked, then ends the interrupt at the controller. The hook never switches
//! threads: it wakes the line's holder, which runs at the next reschedule.
//!
//! [`LineState`] is the arch-neutral state of one line as its driver process sees it.

pub mod io_apic;
mod line;

pub use line::{Busy, LineState};

/// When a wired line signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// On a transition (rising edge, or falling for active-low).
    Edge,
    /// While the line is asserted.
    Level,
}

/// Which level of a wired line is "asserted".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polarity {
    /// High (or rising).
    ActiveHigh,
    /// Low (or falling).
    ActiveLow,
}

/// A wired interrupt line as the firmware tables describe it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WiredLine {
    /// aarch64: the GIC interrupt id (SPIs from 32); x86_64: the global system interrupt.
    pub number: u32,
    /// Edge or level.
    pub trigger: Trigger,
    /// Active high or low.
    pub polarity: Polarity,
}

/// Where a message-signalled interrupt writes to reach a CPU: PCI MSI / MSI-X address and
/// data, written by the kernel into the function's capability or table (never by a driver).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message {
    /// The message address.
    pub address: u64,
    /// The message data.
    pub data: u32,
}

/// What a CPU port offers for device interrupts.
pub trait InterruptControl {
    /// Routes `line` to this CPU, masked. Returns the id the hook will report and [`mask`]
    /// / [`unmask`] take, or `None` if the controller cannot route it.
    ///
    /// [`mask`]: InterruptControl::mask
    /// [`unmask`]: InterruptControl::unmask
    fn connect_line(line: WiredLine, map_device: crate::user_mode::MapDevice) -> Option<u32>;

    /// Reserves an interrupt for a message-signalled source: the id the hook will report and
    /// the message that raises it. `None` where the platform has no MSI (or none left).
    fn connect_message() -> Option<(u32, Message)>;

    /// Stops interrupt `id` from being signalled; one arriving meanwhile stays pending.
    /// Message interrupts are masked at the device instead (the controller has no mask).
    fn mask(id: u32);

    /// Lets interrupt `id` be signalled again (a pending one is taken at once).
    fn unmask(id: u32);

    /// The controller's routing entry for wired line `id` as it reads back (x86_64: the I/O
    /// APIC redirection entry), for tests; `None` where there is no such entry.
    fn routing_entry(id: u32) -> Option<u64> {
        let _ = id;
        None
    }
}
