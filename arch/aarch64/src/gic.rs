//! The GICv2 interrupt controller: just enough to take one private peripheral interrupt.
//!
//! The distributor and CPU interface sit at QEMU `virt`'s fixed addresses, hard-coded below
//! as platform constants; reading them from the device tree's `/intc` node is a later
//! improvement. QEMU's `virt` (no EL3) gives the GIC no security extensions, so every
//! interrupt is in group 0 and group 0 signals IRQ.

use core::sync::atomic::{AtomicUsize, Ordering};
use kernel_core::user_mode::MapDevice;

/// QEMU `virt`: physical address of the GIC distributor.
pub const DISTRIBUTOR_BASE: u64 = 0x0800_0000;
/// QEMU `virt`: size of the distributor's register frame.
pub const DISTRIBUTOR_SIZE: u64 = 0x1_0000;
/// QEMU `virt`: physical address of the GIC CPU interface.
pub const CPU_INTERFACE_BASE: u64 = 0x0801_0000;
/// QEMU `virt`: size of the CPU interface's register frame.
pub const CPU_INTERFACE_SIZE: u64 = 0x1_0000;

/// GICD_CTLR: distributor control.
const DISTRIBUTOR_CONTROL: usize = 0x000;
/// GICD_ISENABLER<n>: one set-enable bit per interrupt.
const DISTRIBUTOR_SET_ENABLE: usize = 0x100;
/// GICD_IPRIORITYR<n>: one priority byte per interrupt.
const DISTRIBUTOR_PRIORITY: usize = 0x400;
/// GICC_CTLR: CPU interface control.
const CPU_CONTROL: usize = 0x000;
/// GICC_PMR: only interrupts with a priority value below this are signalled.
const CPU_PRIORITY_MASK: usize = 0x004;
/// GICC_IAR: reading acknowledges the highest-priority pending interrupt.
const CPU_ACKNOWLEDGE: usize = 0x00c;
/// GICC_EOIR: writing the acknowledged value ends the interrupt.
const CPU_END_OF_INTERRUPT: usize = 0x010;

/// The priority mask programmed into GICC_PMR: lets every priority below 0xF0 through.
const PRIORITY_MASK: u32 = 0xf0;
/// Interrupt ids from 1020 up are special: 1023 means "nothing pending" (spurious).
const FIRST_SPECIAL_ID: u32 = 1020;

/// Virtual address of the distributor, 0 until [`init`].
static DISTRIBUTOR: AtomicUsize = AtomicUsize::new(0);
/// Virtual address of the CPU interface, 0 until [`init`].
static CPU_INTERFACE: AtomicUsize = AtomicUsize::new(0);

fn write(base: &AtomicUsize, offset: usize, value: u32) {
    let register = (base.load(Ordering::Relaxed) + offset) as *mut u32;
    // SAFETY: `base` holds the device mapping `init` made of a whole GIC register frame,
    // and every offset used here is a register inside it.
    unsafe { register.write_volatile(value) };
}

fn read(base: &AtomicUsize, offset: usize) -> u32 {
    let register = (base.load(Ordering::Relaxed) + offset) as *const u32;
    // SAFETY: as for `write`.
    unsafe { register.read_volatile() }
}

/// Maps both register frames, turns the distributor on and lets the CPU interface signal
/// interrupts. Interrupts stay individually disabled until [`enable`].
pub fn init(map_device: MapDevice) {
    if CPU_INTERFACE.load(Ordering::Relaxed) != 0 {
        return;
    }
    let distributor = map_device(DISTRIBUTOR_BASE, DISTRIBUTOR_SIZE);
    let cpu_interface = map_device(CPU_INTERFACE_BASE, CPU_INTERFACE_SIZE);
    DISTRIBUTOR.store(distributor as usize, Ordering::Relaxed);
    CPU_INTERFACE.store(cpu_interface as usize, Ordering::Relaxed);
    write(&DISTRIBUTOR, DISTRIBUTOR_CONTROL, 1);
    write(&CPU_INTERFACE, CPU_PRIORITY_MASK, PRIORITY_MASK);
    write(&CPU_INTERFACE, CPU_CONTROL, 1);
}

/// Gives interrupt `id` the priority `priority` (lower is more urgent, below 0xF0 to pass
/// the mask) and enables it.
pub fn enable(id: u32, priority: u8) {
    let id = id as usize;
    let word = DISTRIBUTOR_PRIORITY + (id & !3);
    let shift = (id % 4) * 8;
    let priorities = read(&DISTRIBUTOR, word) & !(0xff << shift);
    write(
        &DISTRIBUTOR,
        word,
        priorities | (u32::from(priority) << shift),
    );
    write(
        &DISTRIBUTOR,
        DISTRIBUTOR_SET_ENABLE + (id / 32) * 4,
        1 << (id % 32),
    );
}

/// Acknowledges the highest-priority pending interrupt: returns the GICC_IAR value (pass it
/// to [`end_of_interrupt`]) and the interrupt id, or `None` if nothing was pending or the
/// GIC is not set up.
pub fn acknowledge() -> Option<(u32, u32)> {
    if CPU_INTERFACE.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let value = read(&CPU_INTERFACE, CPU_ACKNOWLEDGE);
    let id = value & 0x3ff;
    (id < FIRST_SPECIAL_ID).then_some((value, id))
}

/// Ends the interrupt [`acknowledge`] returned `value` for.
pub fn end_of_interrupt(value: u32) {
    write(&CPU_INTERFACE, CPU_END_OF_INTERRUPT, value);
}
