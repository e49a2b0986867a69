//! The local APIC (x2APIC through MSRs when the CPU offers it, xAPIC through memory-mapped
//! registers otherwise) and the legacy 8259 PICs it replaces.
//!
//! coherent takes interrupts only from the local APIC: the 8259s are masked for good, and
//! so is LINT0 (where they would arrive as ExtINT). Mode: when CPUID.01H:ECX.x2APIC (bit 21)
//! is set, the APIC is switched to x2APIC mode (xAPIC first, then x2APIC, the order the SDM
//! requires) and every register is the MSR `0x800 + offset / 16`; there is then nothing to
//! map, and register access cannot be confused by the MMIO window's memory type. Otherwise
//! the xAPIC's register page is mapped as device memory through the kernel's `map_device`
//! callback. The choice is logged when the timer starts. (QEMU 7.2's TCG does not emulate
//! x2APIC, so under TCG the xAPIC path runs; KVM's `-cpu host` offers x2APIC.)

use crate::port;
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use kernel_core::user_mode::MapDevice;
use x86_64::registers::model_specific::{ApicBase, ApicBaseFlags, Msr};

/// The timer's interrupt vector (the first one after the exceptions).
pub const TIMER_VECTOR: u64 = 32;
/// The kernel's inter-processor interrupt (shootdown, wake-up), above the device vectors.
pub const IPI_VECTOR: u64 = 0xF0;
/// The spurious-interrupt vector: nothing to acknowledge, nothing to do.
pub const SPURIOUS_VECTOR: u64 = 0xFF;

/// CPUID.01H:ECX bit 21: the CPU supports x2APIC mode.
const CPUID_X2APIC: u32 = 1 << 21;
/// x2APIC mode's first register MSR; register at xAPIC offset `o` is MSR `BASE + o / 16`.
const X2APIC_MSR_BASE: u32 = 0x800;

/// Register offsets in the xAPIC page (x2APIC: MSR `0x800 + offset / 16`).
pub mod register {
    /// This CPU's local APIC id (xAPIC: bits 31:24; x2APIC: all 32 bits).
    pub const ID: u64 = 0x20;
    /// Task priority: 0 accepts every vector.
    pub const TASK_PRIORITY: u64 = 0x80;
    /// End of interrupt: write 0.
    pub const END_OF_INTERRUPT: u64 = 0xB0;
    /// Spurious-interrupt vector and the APIC software enable (bit 8).
    pub const SPURIOUS: u64 = 0xF0;
    /// Interrupt request register, 8 registers of 32 vectors each, 16 bytes apart.
    pub const INTERRUPT_REQUEST: u64 = 0x200;
    /// Interrupt command register, low half (x2APIC: the whole 64-bit MSR).
    pub const COMMAND_LOW: u64 = 0x300;
    /// Interrupt command register, high half (xAPIC: destination in bits 31:24).
    pub const COMMAND_HIGH: u64 = 0x310;
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

/// How the local APIC's registers are reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Not enabled yet.
    Off,
    /// Memory-mapped registers (xAPIC).
    Xapic,
    /// Model-specific registers (x2APIC).
    X2apic,
}

/// The current [`Mode`] as a number (0 off, 1 xAPIC, 2 x2APIC).
static MODE: AtomicU8 = AtomicU8::new(0);
/// Where the xAPIC's registers are mapped (0 in x2APIC mode or before [`enable`]).
static REGISTERS: AtomicU64 = AtomicU64::new(0);

/// The mode [`enable`] chose.
pub fn mode() -> Mode {
    match MODE.load(Ordering::Relaxed) {
        1 => Mode::Xapic,
        2 => Mode::X2apic,
        _ => Mode::Off,
    }
}

/// Whether CPUID offers x2APIC mode.
pub fn cpu_has_x2apic() -> bool {
    // CPUID leaf 1 exists on every x86_64 CPU.
    core::arch::x86_64::__cpuid(1).ecx & CPUID_X2APIC != 0
}

/// Masks both 8259 PICs and enables the local APIC: in x2APIC mode if `use_x2apic`, else in
/// xAPIC mode with its registers mapped by `map_device`. Returns the mode chosen.
///
/// # Safety
/// Call once, with interrupts disabled; `map_device` must map device memory; `use_x2apic`
/// only if [`cpu_has_x2apic`].
pub unsafe fn enable(map_device: MapDevice, use_x2apic: bool) -> Mode {
    // SAFETY: the PIC data ports belong to this driver; all-ones masks every line.
    unsafe {
        port::write_u8(0x21, 0xFF);
        port::write_u8(0xA1, 0xFF);
    }
    let (frame, flags) = ApicBase::read();
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU (they all have a local APIC); the
    // base stays where the firmware put it. xAPIC is enabled first: the SDM forbids going from
    // disabled straight to x2APIC. x2APIC is requested only when CPUID offers it (the caller's
    // contract), otherwise setting the bit would raise #GP.
    unsafe {
        ApicBase::write(frame, flags | ApicBaseFlags::LAPIC_ENABLE);
        if use_x2apic {
            ApicBase::write(
                frame,
                flags | ApicBaseFlags::LAPIC_ENABLE | ApicBaseFlags::X2APIC_ENABLE,
            );
        }
    }
    let mode = if use_x2apic {
        MODE.store(2, Ordering::Relaxed);
        Mode::X2apic
    } else {
        let virtual_address = map_device(frame.start_address().as_u64(), 0x1000);
        REGISTERS.store(virtual_address, Ordering::Relaxed);
        MODE.store(1, Ordering::Relaxed);
        Mode::Xapic
    };
    write(register::TASK_PRIORITY, 0);
    write(register::LINT0, LVT_MASKED);
    write(register::SPURIOUS, (1 << 8) | SPURIOUS_VECTOR as u32);
    mode
}

/// Acknowledges the interrupt being handled (no-op before [`enable`]).
pub fn end_of_interrupt() {
    if mode() != Mode::Off {
        write(register::END_OF_INTERRUPT, 0);
    }
}

/// This CPU's local APIC id, as MSI messages address it.
pub fn id() -> u32 {
    match mode() {
        Mode::X2apic => read(register::ID),
        _ => read(register::ID) >> 24,
    }
}

/// Whether `vector` is requested but not yet delivered (its IRR bit).
pub fn is_pending(vector: u8) -> bool {
    let offset = register::INTERRUPT_REQUEST + u64::from(vector / 32) * 0x10;
    read(offset) & (1 << (vector % 32)) != 0
}

/// The x2APIC MSR for xAPIC register offset `offset`.
fn x2apic_register(offset: u64) -> Msr {
    Msr::new(X2APIC_MSR_BASE + (offset >> 4) as u32)
}

/// Reads an APIC register.
///
/// # Panics
/// Before [`enable`].
pub fn read(offset: u64) -> u32 {
    match mode() {
        // SAFETY: in x2APIC mode every register this module names exists as an MSR, and
        // reading one has no side effects.
        Mode::X2apic => unsafe { x2apic_register(offset).read() as u32 },
        Mode::Xapic => {
            let base = REGISTERS.load(Ordering::Relaxed);
            // SAFETY: `enable` mapped the 4 KiB register page at `base` as device memory, and
            // every offset used here is a 16-byte-aligned register inside it.
            unsafe { ((base + offset) as *const u32).read_volatile() }
        }
        Mode::Off => panic!("local APIC used before it was enabled"),
    }
}

/// Writes an APIC register.
///
/// # Panics
/// Before [`enable`].
pub fn write(offset: u64, value: u32) {
    match mode() {
        // SAFETY: in x2APIC mode every register this module names exists as an MSR; the
        // values written are the same the xAPIC path writes (EOI is written with 0, which
        // x2APIC requires).
        Mode::X2apic => unsafe { x2apic_register(offset).write(u64::from(value)) },
        Mode::Xapic => {
            let base = REGISTERS.load(Ordering::Relaxed);
            // SAFETY: as for `read`.
            unsafe { ((base + offset) as *mut u32).write_volatile(value) };
        }
        Mode::Off => panic!("local APIC used before it was enabled"),
    }
}

/// Enables a secondary CPU's local APIC in the mode the boot CPU chose (its registers are
/// at the same address on every CPU, each reaching its own APIC), accepting every vector,
/// LINT0 masked.
///
/// # Safety
/// Call once per secondary CPU, with interrupts disabled, after the boot CPU's [`enable`].
pub unsafe fn enable_secondary() {
    let (frame, flags) = ApicBase::read();
    // SAFETY: as in `enable`: xAPIC before x2APIC, x2APIC only in the mode the boot CPU
    // found offered (the same CPU model).
    unsafe {
        ApicBase::write(frame, flags | ApicBaseFlags::LAPIC_ENABLE);
        if mode() == Mode::X2apic {
            ApicBase::write(
                frame,
                flags | ApicBaseFlags::LAPIC_ENABLE | ApicBaseFlags::X2APIC_ENABLE,
            );
        }
    }
    write(register::TASK_PRIORITY, 0);
    write(register::LINT0, LVT_MASKED);
    write(register::SPURIOUS, (1 << 8) | SPURIOUS_VECTOR as u32);
}

/// ICR delivery modes and flags.
pub mod command {
    /// Fixed delivery of the vector in bits 7:0.
    pub const FIXED: u32 = 0;
    /// INIT (level assert).
    pub const INIT: u32 = 0b101 << 8 | 1 << 14;
    /// INIT de-assert (level, trigger mode level): needed by old CPUs, ignored by new ones.
    pub const INIT_DEASSERT: u32 = 0b101 << 8 | 1 << 15;
    /// Start-up IPI; the vector is the start page number.
    pub const STARTUP: u32 = 0b110 << 8 | 1 << 14;
    /// xAPIC: the previous command is still being sent.
    pub const DELIVERY_PENDING: u32 = 1 << 12;
}

/// Sends `command` (delivery mode and vector) to the local APIC whose id is `destination`.
/// Call with interrupts disabled (the two-register xAPIC write must not be interleaved).
pub fn send(destination: u32, command: u32) {
    match mode() {
        // SAFETY: the x2APIC ICR MSR takes destination and command in one write.
        Mode::X2apic => unsafe {
            x2apic_register(register::COMMAND_LOW)
                .write(u64::from(destination) << 32 | u64::from(command));
        },
        Mode::Xapic => {
            while read(register::COMMAND_LOW) & command::DELIVERY_PENDING != 0 {
                core::hint::spin_loop();
            }
            write(register::COMMAND_HIGH, destination << 24);
            write(register::COMMAND_LOW, command);
        }
        Mode::Off => {}
    }
}
