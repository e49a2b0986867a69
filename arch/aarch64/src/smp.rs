//! Starting the other CPUs through PSCI `CPU_ON`, per-CPU identity, and IPIs.
//!
//! [`start_cpu`] fills the hand-off slots (the kernel's TTBR1 root, the stack top, the CPU
//! index), cleans them to the point of coherency (the new CPU reads them with its MMU and
//! caches off), and calls PSCI `CPU_ON` through the conduit the device tree's `/psci` names
//! with the physical address of `aarch64_secondary_entry`. That code calls the boot CPU's
//! own early routines (`boot.rs`): `early_el1_setup` drops from EL2 to EL1 if it must and
//! enables FP/SIMD (CPACR_EL1.FPEN), `early_mmu_on` programs MAIR/TCR and turns the MMU on,
//! here with the boot CPU's early identity tables in TTBR0 and the kernel's own root in
//! TTBR1. Only the hand-off differs from the boot CPU (no `.bss` clearing or table building;
//! the root, stack and index come from the slots), so that is all this file's assembly holds.
//! It then jumps to the higher half, takes its stack and
//! calls [`aarch64_secondary_rust`]: vectors (VBAR_EL1), TPIDR_EL1 = its CPU index (the
//! per-CPU identity [`cpu_index`] reads), its GIC interface (v2) or redistributor (v3), the
//! IPI's SGI and its timer PPI, then the kernel's `kernel_secondary_main`.
//!
//! IPIs are SGI [`IPI_SGI`]; the interrupt handler ends it and calls the kernel's
//! `kernel_ipi`.

use crate::{gic, timer, trap};
use aarch64_cpu::registers::{Readable, Writeable, MPIDR_EL1, TPIDR_EL1};
use core::arch::{asm, global_asm};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// CPUs this port can run.
pub const MAX_CPUS: usize = 8;
/// The software-generated interrupt the kernel's IPI travels as.
pub const IPI_SGI: u32 = 1;
/// The IPI's GIC priority: more urgent than the timer.
const IPI_PRIORITY: u8 = 0x90;
/// PSCI CPU_ON (SMC64 calling convention).
const PSCI_CPU_ON: u64 = 0xC400_0003;

extern "Rust" {
    fn kernel_secondary_main(index: usize) -> !;
    fn kernel_ipi();
}

extern "C" {
    fn aarch64_secondary_entry();
}

#[no_mangle]
static SECONDARY_ROOT: AtomicU64 = AtomicU64::new(0);
#[no_mangle]
static SECONDARY_STACK: AtomicU64 = AtomicU64::new(0);
#[no_mangle]
static SECONDARY_INDEX: AtomicU64 = AtomicU64::new(0);
static STARTED: AtomicBool = AtomicBool::new(false);

/// Each CPU's MPIDR affinity, by index.
static MPIDRS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// This CPU's index (TPIDR_EL1, set at entry).
#[inline]
pub fn cpu_index() -> usize {
    (TPIDR_EL1.get() as usize).min(MAX_CPUS - 1)
}

/// The boot CPU's MPIDR affinity bits (as the device tree's `reg` lists CPUs).
pub fn boot_mpidr() -> u64 {
    MPIDR_EL1.get() & 0xff_00ff_ffff
}

/// Marks the boot CPU as index 0 and enables the IPI on it (after the GIC is up).
pub fn init_boot_cpu() {
    TPIDR_EL1.set(0);
}

/// Enables the IPI's SGI on this CPU (after its GIC interface is up).
pub fn enable_ipi() {
    gic::enable(IPI_SGI, IPI_PRIORITY);
    MPIDRS[cpu_index()].store(boot_mpidr(), Ordering::Relaxed);
}

/// Sends the kernel's IPI to CPU `index`.
pub fn send_ipi(index: usize) {
    if index < MAX_CPUS {
        gic::send_sgi(index, MPIDRS[index].load(Ordering::Relaxed), IPI_SGI);
    }
}

/// Called by the IRQ handler for [`IPI_SGI`], after its end-of-interrupt.
pub fn ipi() {
    // SAFETY: the kernel defines the hook with this signature.
    unsafe { kernel_ipi() }
}

fn clean_to_coherency(slot: &AtomicU64) {
    // SAFETY: cleaning a cache line by address only writes it back to memory.
    unsafe {
        asm!("dc civac, {}", "dsb sy", in(reg) slot as *const AtomicU64 as u64, options(nostack))
    };
}

/// Starts the CPU whose MPIDR is `mpidr` as CPU `index`; see the module doc.
///
/// # Safety
/// As `kernel_core::Arch::start_cpu`.
pub unsafe fn start_cpu(index: usize, mpidr: u64, stack_top: u64, kernel_root: u64) -> bool {
    if index == 0 || index >= MAX_CPUS {
        return false;
    }
    MPIDRS[index].store(mpidr, Ordering::Relaxed);
    SECONDARY_ROOT.store(kernel_root, Ordering::Relaxed);
    SECONDARY_STACK.store(stack_top, Ordering::Relaxed);
    SECONDARY_INDEX.store(index as u64, Ordering::Relaxed);
    STARTED.store(false, Ordering::Release);
    for slot in [&SECONDARY_ROOT, &SECONDARY_STACK, &SECONDARY_INDEX] {
        clean_to_coherency(slot);
    }
    let entry = aarch64_secondary_entry as *const () as u64 - crate::KERNEL_VIRTUAL_OFFSET;
    let result: u64;
    // SAFETY: PSCI CPU_ON starts the named CPU at `entry` (physical), MMU off; it returns a
    // status in x0. No wrapper exists in `aarch64-cpu`.
    unsafe {
        if crate::platform::psci_secure_monitor() {
            asm!("smc #0", inout("x0") PSCI_CPU_ON => result, in("x1") mpidr, in("x2") entry,
                in("x3") 0u64, options(nostack));
        } else {
            asm!("hvc #0", inout("x0") PSCI_CPU_ON => result, in("x1") mpidr, in("x2") entry,
                in("x3") 0u64, options(nostack));
        }
    }
    if result != 0 {
        use core::fmt::Write;
        let _ = writeln!(
            crate::Console,
            "PSCI CPU_ON {mpidr:#x}: error {}",
            result as i64
        );
        return false;
    }
    let start = timer::monotonic_nanoseconds();
    while !STARTED.load(Ordering::Acquire) {
        if timer::monotonic_nanoseconds() - start > 1_000_000_000 {
            return false;
        }
        core::hint::spin_loop();
    }
    true
}

/// A secondary CPU's first Rust code, MMU on, on its idle stack.
#[no_mangle]
extern "C" fn aarch64_secondary_rust(index: u64) -> ! {
    TPIDR_EL1.set(index);
    // SAFETY: first thing on this CPU; the vectors are the boot CPU's.
    unsafe { trap::init() };
    gic::init_secondary();
    enable_ipi();
    timer::start_secondary();
    STARTED.store(true, Ordering::Release);
    // SAFETY: the kernel defines the hook with this signature.
    unsafe { kernel_secondary_main(index as usize) }
}

// Hand-written: runs before the MMU, a stack or the Rust runtime (see the module doc). The
// EL2 → EL1 drop and the MMU switch are the boot CPU's own routines (`boot.rs`), so the two
// entries cannot drift apart.
global_asm!(
    r#"
    .text
    .p2align 3
    .global aarch64_secondary_entry
    aarch64_secondary_entry:
        bl early_el1_setup
        adrp x0, EARLY_TABLES
        add x0, x0, :lo12:EARLY_TABLES
        adrp x1, SECONDARY_ROOT
        ldr x1, [x1, :lo12:SECONDARY_ROOT]
        bl early_mmu_on
        ldr x4, =1f
        br x4
    1:
        ldr x4, =SECONDARY_STACK
        ldr x4, [x4]
        mov sp, x4
        ldr x0, =SECONDARY_INDEX
        ldr x0, [x0]
        mov x29, xzr
        mov x30, xzr
        bl {entry}
    2:  wfi
        b 2b
    .ltorg
    "#,
    entry = sym aarch64_secondary_rust,
);
