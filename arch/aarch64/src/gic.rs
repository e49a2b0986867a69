//! The Arm Generic Interrupt Controller, version 2 or 3, as the machine description says.
//!
//! The kernel hands the description over ([`configure`], from `Arch::use_machine`) before the
//! timer starts; [`init`] then maps the registers and brings up the distributor and this
//! CPU's interface ([`v2`]: memory-mapped GICC; [`v3`]: redistributor plus the system-register
//! interface). Without a description it falls back to QEMU `virt`'s GICv2 addresses.

pub mod v2;
pub mod v2m;
pub mod v3;

use core::sync::atomic::{AtomicU8, Ordering};
use kernel_core::machine::InterruptController;
use kernel_core::user_mode::MapDevice;

/// QEMU `virt`: physical address of the GIC distributor.
pub const DISTRIBUTOR_BASE: u64 = 0x0800_0000;
/// QEMU `virt`: size of the distributor's register frame.
pub const DISTRIBUTOR_SIZE: u64 = 0x1_0000;
/// QEMU `virt`: physical address of the GICv2 CPU interface.
pub const CPU_INTERFACE_BASE: u64 = 0x0801_0000;
/// QEMU `virt`: size of the CPU interface's register frame.
pub const CPU_INTERFACE_SIZE: u64 = 0x1_0000;

/// The priority mask: lets every priority below 0xF0 through.
const PRIORITY_MASK: u32 = 0xf0;
/// Interrupt ids from 1020 up are special: 1023 means "nothing pending" (spurious).
const FIRST_SPECIAL_ID: u32 = 1020;

/// Which GIC [`init`] brought up: 0 none yet, 2 or 3.
static VERSION: AtomicU8 = AtomicU8::new(0);

/// The controller to bring up, as the machine description gave it.
static CONTROLLER: spin::Mutex<InterruptController> =
    spin::Mutex::new(InterruptController::GicV2 {
        distributor: (DISTRIBUTOR_BASE, DISTRIBUTOR_SIZE),
        cpu_interface: (CPU_INTERFACE_BASE, CPU_INTERFACE_SIZE),
    });

/// Records which GIC the machine has and where; anything but a GIC keeps the default.
pub fn configure(controller: InterruptController) {
    if matches!(
        controller,
        InterruptController::GicV2 { .. } | InterruptController::GicV3 { .. }
    ) {
        *CONTROLLER.lock() = controller;
    }
}

/// Maps the registers, turns the distributor on and lets this CPU's interface signal
/// interrupts. Interrupts stay individually disabled until [`enable`].
pub fn init(map_device: MapDevice) {
    if VERSION.load(Ordering::Relaxed) != 0 {
        return;
    }
    let controller = *CONTROLLER.lock();
    match controller {
        InterruptController::GicV3 {
            distributor,
            redistributor,
        } => {
            v3::init(distributor, redistributor, map_device);
            VERSION.store(3, Ordering::Relaxed);
        }
        InterruptController::GicV2 {
            distributor,
            cpu_interface,
        } => {
            v2::init(distributor, cpu_interface, map_device);
            v2m::init(map_device);
            VERSION.store(2, Ordering::Relaxed);
        }
        _ => {}
    }
}

/// Gives interrupt `id` the priority `priority` (lower is more urgent, below 0xF0 to pass
/// the mask) and enables it.
pub fn enable(id: u32, priority: u8) {
    match VERSION.load(Ordering::Relaxed) {
        3 => v3::enable(id, priority),
        2 => v2::enable(id, priority),
        _ => {}
    }
}

/// GICD_ICFGR<n>, at the same place in GICv2 and GICv3: two bits per interrupt, the upper
/// one set for edge-triggered. `current` is the register's value; returns the register's
/// offset in the distributor and its value with `id` made edge (`edge`) or level.
fn trigger_register(id: u32, edge: bool, current: impl FnOnce(usize) -> u32) -> (usize, u32) {
    let index = id as usize;
    let offset = 0xc00 + (index / 16) * 4;
    let bit = 1 << ((index % 16) * 2 + 1);
    let value = current(offset);
    (offset, if edge { value | bit } else { value & !bit })
}

/// GICD_ICENABLER<n>, at the same place in GICv2 and GICv3: the register offset and the bit
/// that disable interrupt `id` when written.
fn clear_enable_register(id: u32) -> (usize, u32) {
    (0x180 + (id as usize / 32) * 4, 1 << (id % 32))
}

/// Makes shared interrupt `id` edge- or level-triggered, routed to this CPU, disabled.
pub fn configure_line(id: u32, edge: bool) {
    match VERSION.load(Ordering::Relaxed) {
        3 => v3::configure(id, edge),
        2 => v2::configure(id, edge),
        _ => {}
    }
}

/// Disables interrupt `id` (one arriving meanwhile stays pending).
pub fn disable(id: u32) {
    match VERSION.load(Ordering::Relaxed) {
        3 => v3::disable(id),
        2 => v2::disable(id),
        _ => {}
    }
}

/// Shared interrupt `id`'s state as the distributor reads back: bit 0 enabled (GICD_
/// ISENABLER), bit 1 edge-triggered (GICD_ICFGR).
pub fn line_state(id: u32) -> Option<u64> {
    let read: fn(usize) -> u32 = match VERSION.load(Ordering::Relaxed) {
        3 => v3::read_distributor,
        2 => v2::read_distributor,
        _ => return None,
    };
    let index = id as usize;
    let enabled = read(0x100 + (index / 32) * 4) >> (index % 32) & 1;
    let (offset, _) = trigger_register(id, false, |_| 0);
    let edge = read(offset) >> ((index % 16) * 2 + 1) & 1;
    Some(u64::from(enabled) | u64::from(edge) << 1)
}

/// Whether [`init`] brought a GIC up.
pub fn is_up() -> bool {
    VERSION.load(Ordering::Relaxed) != 0
}

/// Acknowledges the highest-priority pending interrupt: returns the acknowledge register's
/// value (pass it to [`end_of_interrupt`]) and the interrupt id, or `None` if nothing was
/// pending or the GIC is not set up.
pub fn acknowledge() -> Option<(u32, u32)> {
    let (value, id) = match VERSION.load(Ordering::Relaxed) {
        3 => v3::acknowledge(),
        2 => v2::acknowledge(),
        _ => return None,
    };
    (id < FIRST_SPECIAL_ID).then_some((value, id))
}

/// Ends the interrupt [`acknowledge`] returned `value` for.
pub fn end_of_interrupt(value: u32) {
    match VERSION.load(Ordering::Relaxed) {
        3 => v3::end_of_interrupt(value),
        2 => v2::end_of_interrupt(value),
        _ => {}
    }
}

/// Brings up a secondary CPU's interface (and, GICv3, its redistributor) on the GIC the boot
/// CPU set up.
pub fn init_secondary() {
    match VERSION.load(Ordering::Relaxed) {
        3 => v3::init_cpu_interface(),
        2 => v2::init_cpu_interface(),
        _ => {}
    }
}

/// Sends software-generated interrupt `id` to CPU `index`, whose MPIDR is `mpidr`.
pub fn send_sgi(index: usize, mpidr: u64, id: u32) {
    match VERSION.load(Ordering::Relaxed) {
        3 => v3::send_sgi(mpidr, id),
        2 => v2::send_sgi(index, id),
        _ => {}
    }
}
