//! [`InterruptControl`] for [`Aarch64`]: device interrupts are GIC shared peripheral
//! interrupts (SPIs, ids 32..1020) configured edge or level as the device tree says,
//! routed to the boot CPU, and masked with the distributor's clear-enable bits.
//!
//! MSI: with GICv2 and a GICv2m frame ([`gic::v2m`]),
//! [`InterruptControl::connect_message`] hands out one of the frame's SPIs, edge-triggered,
//! with the frame's doorbell as message address and the SPI's number as data. With GICv3
//! (QEMU `virt` has an ITS there, which the kernel does not drive) or no frame it says
//! `None`, and PCI functions use their INTx line (the host bridge's `interrupt-map`).

use crate::{gic, Aarch64};
use kernel_core::interrupt::{InterruptControl, Message, Trigger, WiredLine};
use kernel_core::user_mode::MapDevice;

/// The first shared peripheral interrupt id; below are SGIs and PPIs (the timer's).
pub const FIRST_SHARED: u32 = 32;
/// Ids from here on are special (1020..1023) or LPIs.
const LAST_SHARED: u32 = 1019;
/// Device interrupts' priority: just above the timer's 0xa0 in urgency order is not
/// needed; the same middling value keeps the tick from being starved.
const PRIORITY: u8 = 0xa0;

impl InterruptControl for Aarch64 {
    fn connect_line(line: WiredLine, map_device: MapDevice) -> Option<u32> {
        if !(FIRST_SHARED..=LAST_SHARED).contains(&line.number) {
            return None;
        }
        // Brings the GIC up if the timer has not yet (it does nothing the second time).
        gic::init(map_device);
        if !gic::is_up() {
            return None;
        }
        gic::configure_line(line.number, line.trigger == Trigger::Edge);
        gic::enable(line.number, PRIORITY);
        gic::disable(line.number);
        Some(line.number)
    }

    fn connect_message() -> Option<(u32, Message)> {
        if !gic::is_up() {
            return None;
        }
        let (id, doorbell) = gic::v2m::take()?;
        // Masked at the function (its MSI-X entry), so enabled at the distributor for good.
        gic::configure_line(id, true);
        gic::enable(id, PRIORITY);
        Some((
            id,
            Message {
                address: doorbell,
                data: id,
            },
        ))
    }

    fn mask(id: u32) {
        gic::disable(id);
    }

    fn unmask(id: u32) {
        gic::enable(id, PRIORITY);
    }

    /// Bit 0: enabled at the distributor; bit 1: edge-triggered.
    fn routing_entry(id: u32) -> Option<u64> {
        gic::line_state(id)
    }
}
