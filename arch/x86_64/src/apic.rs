//! The local APIC (xAPIC, memory-mapped) and the legacy 8259 PICs it replaces.
//!
//! coherent takes interrupts only from the local APIC: the 8259s are masked for good, and
//! so is LINT0 (where they would arrive as ExtINT). The APIC's registers are mapped as device
//! memory through the kernel's `map_device` callback when the timer starts.

use crate::cpu::{read_msr, write_msr};
use crate::port;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel_core::user_mode::MapDevice;

/// The timer's interrupt vector (the first one after the exceptions).
pub const TIMER_VECTOR: u64 = 32;
/// The spurious-interrupt vector: nothing to acknowledge, nothing to do.
pub const SPURIOUS_VECTOR: u64 = 0xFF;

const IA32_APIC_BASE: u32 = 0x1B;
/// IA32_APIC_BASE bit 11: the xAPIC is enabled.
const APIC_GLOBAL_ENABLE: u64 = 1 << 11;
/// IA32_APIC_BASE bits 12..52: the registers' physical address.
const APIC_BASE_ADDRESS: u64 = 0x000F_FFFF_FFFF_F000;

/// Register offsets in the xAPIC page.
pub mod register {
    /// Task priority: 0 accepts every vector.
    pub const TASK_PRIORITY: u64 = 0x80;
    /// End of interrupt: write 0.
    pub const END_OF_INTERRUPT: u64 = 0xB0;
    /// Spurious-interrupt vector and the APIC software enable (bit 8).
    pub const SPURIOUS: u64 = 0xF0;
    /// Local vector table: the timer.
    pub const TIMER: u64 = 0x320;
    /// Local vector table: the LINT0 pin (ExtINT from the 8259s).
    pub const LINT0: u64 = 0x350;
    /// The timer's initial count.
    pub const INITIAL_COUNT: u64 = 0x380;
    /// The timer's current count.
    pub const CURRENT_COUNT: u64 = 0x390;
    /// The timer's divide configuration.
    pub const DIVIDE: u64 = 0x3E0;
}

/// LVT bit 16: the entry is masked.
pub const LVT_MASKED: u32 = 1 << 16;
/// LVT timer bit 17: periodic mode (reload from the initial count).
pub const LVT_PERIODIC: u32 = 1 << 17;
/// Divide configuration value for "divide by 16".
pub const DIVIDE_BY_16: u32 = 0b0011;

/// Where the APIC's registers are mapped (0 until [`enable`]).
static REGISTERS: AtomicU64 = AtomicU64::new(0);

/// Masks both 8259 PICs, enables the local APIC and maps its registers with `map_device`.
///
/// # Safety
/// Call once, with interrupts disabled; `map_device` must map device memory.
pub unsafe fn enable(map_device: MapDevice) {
    // SAFETY: the PIC data ports belong to this driver; all-ones masks every line.
    unsafe {
        port::write_u8(0x21, 0xFF);
        port::write_u8(0xA1, 0xFF);
    }
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU (they all have a local APIC);
    // setting the enable bit at the current base keeps the firmware's choice of address.
    let base = unsafe {
        let value = read_msr(IA32_APIC_BASE) | APIC_GLOBAL_ENABLE;
        write_msr(IA32_APIC_BASE, value);
        value & APIC_BASE_ADDRESS
    };
    let virtual_address = map_device(base, 0x1000);
    REGISTERS.store(virtual_address, Ordering::Relaxed);
    write(register::TASK_PRIORITY, 0);
    write(register::LINT0, LVT_MASKED);
    write(register::SPURIOUS, (1 << 8) | SPURIOUS_VECTOR as u32);
}

/// Acknowledges the interrupt being handled (no-op before [`enable`]).
pub fn end_of_interrupt() {
    if REGISTERS.load(Ordering::Relaxed) != 0 {
        write(register::END_OF_INTERRUPT, 0);
    }
}

/// Reads an APIC register.
///
/// # Panics
/// Before [`enable`] has mapped the registers.
pub fn read(offset: u64) -> u32 {
    let base = REGISTERS.load(Ordering::Relaxed);
    assert!(base != 0, "local APIC used before it was mapped");
    // SAFETY: `enable` mapped the 4 KiB register page at `base` as device memory, and every
    // offset used here is a 16-byte-aligned register inside it.
    unsafe { ((base + offset) as *const u32).read_volatile() }
}

/// Writes an APIC register.
///
/// # Panics
/// Before [`enable`] has mapped the registers.
pub fn write(offset: u64, value: u32) {
    let base = REGISTERS.load(Ordering::Relaxed);
    assert!(base != 0, "local APIC used before it was mapped");
    // SAFETY: as for `read`.
    unsafe { ((base + offset) as *mut u32).write_volatile(value) };
}
