//! GICv3: a memory-mapped distributor, one redistributor per CPU, and the CPU interface
//! through system registers (ICC_*_EL1).
//!
//! With affinity routing on (GICD_CTLR.ARE), private interrupts (ids below 32, the timer's
//! PPI among them) are configured in the CPU's redistributor, shared ones in the distributor.
//! Everything the kernel enables is non-secure group 1, which signals IRQ (group 0 would be
//! FIQ). QEMU `virt` without EL3 gives the GIC a single security state (GICD_CTLR.DS = 1),
//! so the kernel at EL1 may program the groups itself.
//!
//! `aarch64-cpu` covers only ICC_CTLR_EL1 and ICC_SRE_EL2 of the CPU interface's registers,
//! so the ones used here are reached through the two small macros below.

use super::PRIORITY_MASK;
use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{Readable, MPIDR_EL1};
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel_core::user_mode::MapDevice;

/// GICD_CTLR.
const DISTRIBUTOR_CONTROL: usize = 0x0000;
/// GICD_CTLR.RWP: a register write is still taking effect.
const REGISTER_WRITE_PENDING: u32 = 1 << 31;
/// GICD_CTLR (single security state): EnableGrp0, EnableGrp1, ARE.
const DISTRIBUTOR_ENABLE: u32 = 1 | (1 << 1) | (1 << 4);
/// GICD_IGROUPR<n>, GICR_IGROUPR0: one group bit per interrupt (1 = group 1).
const GROUP: usize = 0x080;
/// GICD_ISENABLER<n>, GICR_ISENABLER0: one set-enable bit per interrupt.
const SET_ENABLE: usize = 0x100;
/// GICD_IPRIORITYR<n>, GICR_IPRIORITYR<n>: one priority byte per interrupt.
const PRIORITY: usize = 0x400;
/// GICD_IROUTER<n>: 64-bit affinity route per shared interrupt.
const ROUTE: usize = 0x6000;
/// GICR_TYPER: 64 bits; affinity in bits 63:32, Last in bit 4, VLPIS in bit 1.
const REDISTRIBUTOR_TYPE: usize = 0x0008;
/// GICR_WAKER: ProcessorSleep (bit 1) and ChildrenAsleep (bit 2).
const WAKER: usize = 0x0014;
const PROCESSOR_SLEEP: u32 = 1 << 1;
const CHILDREN_ASLEEP: u32 = 1 << 2;
/// The SGI/PPI frame follows the redistributor's control frame.
const SGI_FRAME: usize = 0x1_0000;
/// Bytes of one redistributor (control + SGI frames); twice that with virtual LPIs.
const REDISTRIBUTOR_STRIDE: u64 = 0x2_0000;
/// The most redistributors looked at for this CPU's.
const MAX_REDISTRIBUTORS: u64 = 64;

/// ICC_SRE_EL1.SRE: use the system-register interface.
const SYSTEM_REGISTER_ENABLE: u64 = 1;

/// Virtual address of the distributor, 0 until [`init`].
static DISTRIBUTOR: AtomicUsize = AtomicUsize::new(0);
/// Virtual address of each CPU's redistributor (control frame), by CPU index; 0 until that
/// CPU's [`init`] / [`init_secondary`].
static REDISTRIBUTORS: [AtomicUsize; crate::smp::MAX_CPUS] =
    [const { AtomicUsize::new(0) }; crate::smp::MAX_CPUS];
/// The redistributor region as mapped by [`init`]: (virtual address, bytes).
static REGION: AtomicUsize = AtomicUsize::new(0);
static REGION_SIZE: AtomicUsize = AtomicUsize::new(0);

/// This CPU's redistributor.
fn redistributor() -> &'static AtomicUsize {
    &REDISTRIBUTORS[crate::smp::cpu_index()]
}

/// Writes a CPU-interface system register the crate lacks, then synchronises.
macro_rules! write_system_register {
    ($name:literal, $value:expr) => {{
        let value: u64 = $value;
        // SAFETY: the GIC CPU-interface registers written here (SRE, PMR, IGRPEN1, EOIR1)
        // only change how this CPU takes interrupts; no memory is touched.
        unsafe {
            core::arch::asm!(
                concat!("msr ", $name, ", {}"),
                "isb",
                in(reg) value,
                options(nomem, nostack)
            )
        }
    }};
}

/// Reads a CPU-interface system register the crate lacks.
macro_rules! read_system_register {
    ($name:literal) => {{
        let value: u64;
        // SAFETY: reading SRE has no side effect; reading IAR1 acknowledges an interrupt,
        // which is this module's purpose. No memory is touched.
        unsafe {
            core::arch::asm!(
                concat!("mrs {}, ", $name),
                out(reg) value,
                options(nomem, nostack)
            )
        };
        value
    }};
}

fn register(base: &AtomicUsize, offset: usize) -> *mut u32 {
    (base.load(Ordering::Relaxed) + offset) as *mut u32
}

fn write(base: &AtomicUsize, offset: usize, value: u32) {
    // SAFETY: `base` holds a device mapping `init` made of a whole GIC frame, and every
    // offset used here is a register inside it.
    unsafe { register(base, offset).write_volatile(value) };
}

fn read(base: &AtomicUsize, offset: usize) -> u32 {
    // SAFETY: as for `write`.
    unsafe { register(base, offset).read_volatile() }
}

/// Waits until the distributor has applied the last write.
fn wait_for_distributor() {
    while read(&DISTRIBUTOR, DISTRIBUTOR_CONTROL) & REGISTER_WRITE_PENDING != 0 {
        core::hint::spin_loop();
    }
}

/// This CPU's affinity in GICR_TYPER's format: Aff3.Aff2.Aff1.Aff0.
fn affinity() -> u64 {
    let mpidr = MPIDR_EL1.get();
    ((mpidr >> 8) & 0xff00_0000) | (mpidr & 0x00ff_ffff)
}

/// Maps the distributor and this CPU's redistributor, turns on affinity routing and both
/// groups, wakes the redistributor, and enables the system-register CPU interface.
///
/// # Panics
/// When no redistributor in the region is this CPU's: the description is wrong and no
/// interrupt could ever arrive.
pub fn init(distributor: (u64, u64), redistributor: (u64, u64), map_device: MapDevice) {
    DISTRIBUTOR.store(
        map_device(distributor.0, distributor.1) as usize,
        Ordering::Relaxed,
    );
    write(&DISTRIBUTOR, DISTRIBUTOR_CONTROL, 0);
    wait_for_distributor();
    write(&DISTRIBUTOR, DISTRIBUTOR_CONTROL, DISTRIBUTOR_ENABLE);
    wait_for_distributor();

    // Every CPU's redistributor at once (as many as the kernel runs), so a secondary CPU
    // finds its own without mapping anything.
    let size = redistributor
        .1
        .min(REDISTRIBUTOR_STRIDE * 2 * crate::smp::MAX_CPUS as u64);
    REGION.store(
        map_device(redistributor.0, size) as usize,
        Ordering::Relaxed,
    );
    REGION_SIZE.store(size as usize, Ordering::Relaxed);
    init_cpu_interface();
}

/// Finds and wakes this CPU's redistributor and enables its system-register interface.
///
/// # Panics
/// When no redistributor in the region is this CPU's: the description is wrong and no
/// interrupt could ever arrive.
pub fn init_cpu_interface() {
    let mine = affinity();
    let (region, size) = (
        REGION.load(Ordering::Relaxed),
        REGION_SIZE.load(Ordering::Relaxed) as u64,
    );
    let mut offset = 0;
    for _ in 0..MAX_REDISTRIBUTORS {
        if offset + REDISTRIBUTOR_STRIDE > size {
            break;
        }
        let frame = region + offset as usize;
        let type_pointer = (frame + REDISTRIBUTOR_TYPE) as *const u64;
        // SAFETY: `frame` lies in the region `init` mapped as device memory, one
        // redistributor's control frame; GICR_TYPER is an aligned 64-bit register in it.
        let kind = unsafe { type_pointer.read_volatile() };
        if kind >> 32 == mine {
            redistributor().store(frame, Ordering::Relaxed);
            break;
        }
        let virtual_lpis = kind & (1 << 1) != 0;
        offset += REDISTRIBUTOR_STRIDE * if virtual_lpis { 2 } else { 1 };
        if kind & (1 << 4) != 0 {
            break;
        }
    }
    assert!(
        redistributor().load(Ordering::Relaxed) != 0,
        "GICv3: no redistributor for affinity {mine:#x}"
    );
    let waker = read(redistributor(), WAKER);
    write(redistributor(), WAKER, waker & !PROCESSOR_SLEEP);
    while read(redistributor(), WAKER) & CHILDREN_ASLEEP != 0 {
        core::hint::spin_loop();
    }

    let enable = read_system_register!("icc_sre_el1") | SYSTEM_REGISTER_ENABLE;
    write_system_register!("icc_sre_el1", enable);
    write_system_register!("icc_pmr_el1", u64::from(PRIORITY_MASK));
    write_system_register!("icc_igrpen1_el1", 1);
    barrier::isb(barrier::SY);
}

/// Puts interrupt `id` in group 1 with `priority` and enables it: in this CPU's
/// redistributor for private interrupts, in the distributor (routed to this CPU) otherwise.
pub fn enable(id: u32, priority: u8) {
    let index = id as usize;
    let (base, group, set_enable) = if id < 32 {
        (redistributor(), SGI_FRAME + GROUP, SGI_FRAME + SET_ENABLE)
    } else {
        let route = (DISTRIBUTOR.load(Ordering::Relaxed) + ROUTE + index * 8) as *mut u64;
        // SAFETY: GICD_IROUTER<id> is an aligned 64-bit register inside the distributor
        // frame `init` mapped (ids up to 1019).
        unsafe { route.write_volatile(affinity()) };
        (
            &DISTRIBUTOR,
            GROUP + (index / 32) * 4,
            SET_ENABLE + (index / 32) * 4,
        )
    };
    let priority_offset = if id < 32 { SGI_FRAME } else { 0 } + PRIORITY + (index & !3);
    let shift = (index % 4) * 8;
    let priorities = read(base, priority_offset) & !(0xff << shift);
    write(
        base,
        priority_offset,
        priorities | (u32::from(priority) << shift),
    );
    let groups = read(base, group);
    write(base, group, groups | (1 << (index % 32)));
    write(base, set_enable, 1 << (index % 32));
    if id >= 32 {
        wait_for_distributor();
    }
}

/// Reads the distributor register at `offset` (for state checks).
pub fn read_distributor(offset: usize) -> u32 {
    read(&DISTRIBUTOR, offset)
}

/// Makes shared interrupt `id` edge- or level-triggered; leaves it disabled (routing to
/// this CPU is set by [`enable`]).
pub fn configure(id: u32, edge: bool) {
    disable(id);
    let (word, value) = super::trigger_register(id, edge, |word| read(&DISTRIBUTOR, word));
    write(&DISTRIBUTOR, word, value);
    wait_for_distributor();
}

/// Disables shared interrupt `id` at the distributor (a new one stays pending).
pub fn disable(id: u32) {
    let (register, bit) = super::clear_enable_register(id);
    write(&DISTRIBUTOR, register, bit);
    wait_for_distributor();
}

/// Reads ICC_IAR1_EL1: `(value, interrupt id)`.
pub fn acknowledge() -> (u32, u32) {
    let value = read_system_register!("icc_iar1_el1") as u32;
    (value, value & 0x00ff_ffff)
}

/// Writes ICC_EOIR1_EL1.
pub fn end_of_interrupt(value: u32) {
    write_system_register!("icc_eoir1_el1", u64::from(value));
}

/// Sends software-generated interrupt `id` to the CPU whose MPIDR is `mpidr`
/// (ICC_SGI1R_EL1: affinity 3.2.1 and a one-bit target list for affinity 0 below 16).
pub fn send_sgi(mpidr: u64, id: u32) {
    let aff0 = mpidr & 0xf;
    let aff1 = (mpidr >> 8) & 0xff;
    let aff2 = (mpidr >> 16) & 0xff;
    let aff3 = (mpidr >> 32) & 0xff;
    let value = (aff3 << 48) | (aff2 << 32) | (u64::from(id) << 24) | (aff1 << 16) | (1 << aff0);
    // SAFETY: ICC_SGI1R_EL1 only raises an interrupt at the named CPU.
    unsafe {
        core::arch::asm!("dsb ishst", "msr icc_sgi1r_el1, {}", "isb", in(reg) value, options(nostack))
    };
}
