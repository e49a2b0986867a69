//! [`InterruptControl`] for [`X86_64`]: device interrupts as local-APIC vectors.
//!
//! Vectors [`FIRST_DEVICE_VECTOR`]..=[`LAST_DEVICE_VECTOR`] are handed out once each, in
//! order. A PCI function's MSI / MSI-X message is `0xFEE0_0000 | apic_id << 12` (physical
//! destination, this CPU) with data = the vector (fixed delivery, edge). Such an interrupt
//! has no mask in the controller: the kernel masks it at the device (the MSI-X vector-control
//! bit), so [`InterruptControl::mask`] is a no-op for it.
//!
//! Wired lines go through the I/O APICs ([`crate::io_apic`]): a vector of the same range,
//! the line's trigger and polarity (after the MADT's overrides, which the kernel applies),
//! masked with the redirection entry's mask bit. PCI functions use MSI-X rather than INTx:
//! QEMU `q35`'s INTx routing needs the DSDT's `_PRT`, which is AML.

use crate::{apic, io_apic, X86_64};
use core::sync::atomic::{AtomicU32, Ordering};
use kernel_core::interrupt::{InterruptControl, Message, WiredLine};
use kernel_core::user_mode::MapDevice;

/// The first vector handed to devices (32 is the timer; 33..47 stay free for the kernel).
pub const FIRST_DEVICE_VECTOR: u32 = 48;
/// The last vector handed to devices (the top ones stay for the spurious vector).
pub const LAST_DEVICE_VECTOR: u32 = 239;
/// The MSI address window every local APIC listens on.
const MSI_ADDRESS: u64 = 0xFEE0_0000;

/// The next vector [`InterruptControl::connect_message`] hands out.
static NEXT_VECTOR: AtomicU32 = AtomicU32::new(FIRST_DEVICE_VECTOR);

extern "Rust" {
    /// The kernel's device-interrupt hook (`kernel_core::interrupt`).
    fn kernel_device_interrupt(id: u32);
}

/// Whether `vector` is one [`InterruptControl::connect_message`] may have handed out.
pub fn is_device_vector(vector: u64) -> bool {
    (u64::from(FIRST_DEVICE_VECTOR)..=u64::from(LAST_DEVICE_VECTOR)).contains(&vector)
}

/// Hands device vector `vector` to the kernel (the caller then ends the interrupt).
pub fn handle(vector: u32) {
    // SAFETY: the kernel defines `kernel_device_interrupt` with this signature.
    unsafe { kernel_device_interrupt(vector) }
}

/// A vector no one has yet.
fn allocate_vector() -> Option<u32> {
    NEXT_VECTOR
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |next| {
            (next <= LAST_DEVICE_VECTOR).then_some(next + 1)
        })
        .ok()
}

/// This CPU's local APIC id (0 before the APIC is enabled: the boot CPU's under QEMU).
fn this_cpu() -> u8 {
    if apic::mode() == apic::Mode::Off {
        0
    } else {
        (apic::id() & 0xff) as u8
    }
}

impl InterruptControl for X86_64 {
    fn connect_line(line: WiredLine, map_device: MapDevice) -> Option<u32> {
        let vector = allocate_vector()?;
        io_apic::connect(line, vector, this_cpu(), map_device)?;
        Some(vector)
    }

    fn connect_message() -> Option<(u32, Message)> {
        let vector = allocate_vector()?;
        let message = Message {
            address: MSI_ADDRESS | (u64::from(this_cpu()) << 12),
            data: vector,
        };
        Some((vector, message))
    }

    fn mask(id: u32) {
        io_apic::set_masked(id, true);
    }

    fn unmask(id: u32) {
        io_apic::set_masked(id, false);
    }

    fn routing_entry(id: u32) -> Option<u64> {
        io_apic::entry(id)
    }
}
