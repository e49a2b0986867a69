//! GICv2: a memory-mapped distributor and CPU interface.
//!
//! QEMU's `virt` (no EL3) gives the GIC no security extensions, so every interrupt is in
//! group 0 and group 0 signals IRQ.

use super::PRIORITY_MASK;
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel_core::user_mode::MapDevice;

/// GICD_CTLR: distributor control.
const DISTRIBUTOR_CONTROL: usize = 0x000;
/// GICD_ISENABLER<n>: one set-enable bit per interrupt.
const DISTRIBUTOR_SET_ENABLE: usize = 0x100;
/// GICD_IPRIORITYR<n>: one priority byte per interrupt.
const DISTRIBUTOR_PRIORITY: usize = 0x400;
/// GICD_ITARGETSR<n>: one CPU-target byte per interrupt (read-only for private ones).
const DISTRIBUTOR_TARGETS: usize = 0x800;
/// GICC_CTLR: CPU interface control.
const CPU_CONTROL: usize = 0x000;
/// GICC_PMR: only interrupts with a priority value below this are signalled.
const CPU_PRIORITY_MASK: usize = 0x004;
/// GICC_IAR: reading acknowledges the highest-priority pending interrupt.
const CPU_ACKNOWLEDGE: usize = 0x00c;
/// GICC_EOIR: writing the acknowledged value ends the interrupt.
const CPU_END_OF_INTERRUPT: usize = 0x010;

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

/// Maps both register frames (`(base, size)` each), turns the distributor on and lets the
/// CPU interface signal interrupts.
pub fn init(distributor: (u64, u64), cpu_interface: (u64, u64), map_device: MapDevice) {
    let distributor = map_device(distributor.0, distributor.1);
    let cpu_interface = map_device(cpu_interface.0, cpu_interface.1);
    DISTRIBUTOR.store(distributor as usize, Ordering::Relaxed);
    CPU_INTERFACE.store(cpu_interface as usize, Ordering::Relaxed);
    write(&DISTRIBUTOR, DISTRIBUTOR_CONTROL, 1);
    init_cpu_interface();
}

/// This CPU's interface mask as SGIs target it, by CPU index.
static INTERFACE_MASKS: [core::sync::atomic::AtomicU8; crate::smp::MAX_CPUS] =
    [const { core::sync::atomic::AtomicU8::new(0) }; crate::smp::MAX_CPUS];

/// Lets this CPU's interface (banked at the same address on every CPU) signal interrupts,
/// and records its target mask (GICD_ITARGETSR0's first byte reads back this CPU's own).
pub fn init_cpu_interface() {
    write(&CPU_INTERFACE, CPU_PRIORITY_MASK, PRIORITY_MASK);
    write(&CPU_INTERFACE, CPU_CONTROL, 1);
    let mask = read(&DISTRIBUTOR, DISTRIBUTOR_TARGETS) as u8;
    INTERFACE_MASKS[crate::smp::cpu_index()].store(mask, Ordering::Relaxed);
}

/// Sends software-generated interrupt `id` to CPU `index` (GICD_SGIR, target-list filter).
pub fn send_sgi(index: usize, id: u32) {
    let mask = u32::from(INTERFACE_MASKS[index].load(Ordering::Relaxed));
    write(&DISTRIBUTOR, 0xf00, (mask << 16) | (id & 0xf));
}

/// Sets interrupt `id`'s priority and enables it at the distributor.
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

/// Reads the distributor register at `offset` (for state checks).
pub fn read_distributor(offset: usize) -> u32 {
    read(&DISTRIBUTOR, offset)
}

/// Makes shared interrupt `id` edge- or level-triggered and targets it at CPU 0 (device
/// interrupts are taken on the boot CPU; the kernel's hook runs on whichever CPU takes
/// one); leaves it disabled.
pub fn configure(id: u32, edge: bool) {
    let id = id as usize;
    disable(id as u32);
    let (word, value) = super::trigger_register(id as u32, edge, |word| read(&DISTRIBUTOR, word));
    write(&DISTRIBUTOR, word, value);
    let targets = DISTRIBUTOR_TARGETS + (id & !3);
    let shift = (id % 4) * 8;
    let value = read(&DISTRIBUTOR, targets) & !(0xff << shift);
    write(&DISTRIBUTOR, targets, value | (1 << shift));
}

/// Disables interrupt `id` at the distributor (a new one stays pending).
pub fn disable(id: u32) {
    let (register, bit) = super::clear_enable_register(id);
    write(&DISTRIBUTOR, register, bit);
}

/// Reads GICC_IAR: `(value, interrupt id)`.
pub fn acknowledge() -> (u32, u32) {
    let value = read(&CPU_INTERFACE, CPU_ACKNOWLEDGE);
    (value, value & 0x3ff)
}

/// Writes GICC_EOIR.
pub fn end_of_interrupt(value: u32) {
    write(&CPU_INTERFACE, CPU_END_OF_INTERRUPT, value);
}
