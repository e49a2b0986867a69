//! Starting the other CPUs (application processors) and sending them IPIs.
//!
//! An AP starts in real mode at the page a start-up IPI names. [`start_cpu`] copies a
//! 16-bit trampoline to [`TRAMPOLINE_PAGE`] (below 1 MiB, which the kernel never allocates:
//! `RESERVED_LOW_MEMORY`), fills the hand-off slots (kernel root, stack top, CPU index),
//! and sends INIT, then two start-up IPIs (the MP specification's INIT-SIPI-SIPI, with the
//! SDM's 10 ms and 200 µs waits). The trampoline loads a small GDT and enters protected
//! mode, jumps to `ap_entry32` in the kernel image's identity-mapped boot section, which
//! turns on PAE, long mode and paging with the boot CPU's own sequence (`boot::long_mode_on`,
//! the same assembly text `pvh_entry32` runs) and the boot CPU's early tables (which identity-map
//! the first 4 GiB and map the kernel's higher half; they stay in the image), jumps to the
//! higher half, loads the kernel's own root and stack, and calls [`x86_64_ap_entry`]. That
//! sets the CPU up exactly as the boot CPU was — control registers, its own GDT and TSS with
//! its own interrupt stacks, the shared IDT, `syscall` MSRs and GS base for its per-CPU
//! block, PAT, its local APIC and periodic timer — reports in, and calls the kernel's
//! `kernel_secondary_main`.
//!
//! IPIs: fixed delivery of [`crate::apic::IPI_VECTOR`] to the target's local APIC id; the
//! handler acknowledges it and calls the kernel's `kernel_ipi`.
//!
//! Hand-written assembly, because no crate covers it: the trampoline runs in real and
//! protected mode before there is a stack.
//!
//! What is shared with the boot CPU's entry and what is not: only the 32-bit long-mode switch
//! is shared. The 16-bit part cannot be: it exists only here (the boot CPU is entered in
//! protected mode by the PVH loader), and it is copied to [`TRAMPOLINE_PAGE`] and runs at
//! whatever address that is, so it may only use `%cs`-relative addressing. The GDTs differ on
//! purpose: the AP needs a 32-bit code segment to leave real mode, which the boot CPU (given
//! one by the loader) does not, so the selectors in the far jumps differ. The 64-bit tails
//! differ in what they do (the boot CPU clears `.bss` and takes the boot stack; an AP loads
//! the kernel's root and its idle stack from the hand-off slots).

use crate::boot::long_mode_on;
use crate::syscall::MAX_CPUS;
use crate::{apic, cpu, gdt, syscall, timer, trap};
use core::arch::global_asm;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// The physical page the start-up IPI names (vector 0x08 = page 0x8000).
pub const TRAMPOLINE_PAGE: u64 = 0x8000;

extern "Rust" {
    /// The kernel's first code on a secondary CPU.
    fn kernel_secondary_main(index: usize) -> !;
    /// The kernel's IPI hook.
    fn kernel_ipi();
}

extern "C" {
    static ap_trampoline_start: u8;
    static ap_trampoline_end: u8;
}

/// Hand-off slots the AP's 64-bit entry reads (kernel virtual addresses).
#[no_mangle]
static AP_ROOT: AtomicU64 = AtomicU64::new(0);
#[no_mangle]
static AP_STACK: AtomicU64 = AtomicU64::new(0);
#[no_mangle]
static AP_INDEX: AtomicU64 = AtomicU64::new(0);
/// Set by the AP once it is set up.
static AP_STARTED: AtomicBool = AtomicBool::new(false);

/// Local APIC id of each CPU index.
static APIC_IDS: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];

/// The boot CPU's local APIC id.
pub fn boot_apic_id() -> u64 {
    u64::from(apic::id())
}

/// Sends the kernel's IPI to CPU `index`.
pub fn send_ipi(index: usize) {
    if index < MAX_CPUS {
        apic::send(
            APIC_IDS[index].load(Ordering::Relaxed),
            apic::command::FIXED | apic::IPI_VECTOR as u32,
        );
    }
}

/// Called by the trap dispatcher for [`apic::IPI_VECTOR`], after the EOI.
pub fn ipi() {
    // SAFETY: the kernel defines the hook with this signature.
    unsafe { kernel_ipi() }
}

/// Copies the real-mode trampoline to its page (through the early tables' identity map,
/// which is still active: call from `x86_64_entry`).
pub fn install_trampoline() {
    let start = core::ptr::addr_of!(ap_trampoline_start);
    let end = core::ptr::addr_of!(ap_trampoline_end);
    let length = end as usize - start as usize;
    // SAFETY: the page is below 1 MiB, which the kernel never allocates and the early
    // tables identity-map writable; the trampoline is far smaller than a page.
    unsafe {
        core::ptr::copy_nonoverlapping(start, TRAMPOLINE_PAGE as *mut u8, length.min(4096));
    }
}

/// Busy-waits about `nanoseconds` on the TSC at its calibrated rate: the monotonic clock
/// may count timer interrupts, which stay masked while the boot CPU starts the others.
fn wait_nanoseconds(nanoseconds: u64) {
    let hertz = timer::rates().time_stamp_hertz.max(1_000_000);
    let ticks = u128::from(nanoseconds) * u128::from(hertz) / 1_000_000_000;
    let start = crate::clock::time_stamp();
    while u128::from(crate::clock::time_stamp().wrapping_sub(start)) < ticks {
        core::hint::spin_loop();
    }
}

/// Starts the AP with local APIC id `apic_id` as CPU `index`; see the module doc.
///
/// # Safety
/// As `kernel_core::Arch::start_cpu`.
pub unsafe fn start_cpu(index: usize, apic_id: u64, stack_top: u64, kernel_root: u64) -> bool {
    if index == 0 || index >= MAX_CPUS || apic_id > 0xff {
        return false;
    }
    APIC_IDS[0].store(apic::id(), Ordering::Relaxed);
    APIC_IDS[index].store(apic_id as u32, Ordering::Relaxed);
    AP_ROOT.store(kernel_root, Ordering::Relaxed);
    AP_STACK.store(stack_top, Ordering::Relaxed);
    AP_INDEX.store(index as u64, Ordering::Relaxed);
    AP_STARTED.store(false, Ordering::Release);
    let destination = apic_id as u32;
    apic::send(destination, apic::command::INIT);
    wait_nanoseconds(200_000);
    apic::send(destination, apic::command::INIT_DEASSERT);
    wait_nanoseconds(10_000_000);
    let page = (TRAMPOLINE_PAGE >> 12) as u32;
    for _ in 0..2 {
        apic::send(destination, apic::command::STARTUP | page);
        wait_nanoseconds(200_000);
        if AP_STARTED.load(Ordering::Acquire) {
            break;
        }
    }
    for _ in 0..1000 {
        if AP_STARTED.load(Ordering::Acquire) {
            return true;
        }
        wait_nanoseconds(1_000_000);
    }
    false
}

/// An AP's first Rust code, on its idle stack, with the kernel's root active.
#[no_mangle]
extern "C" fn x86_64_ap_entry(index: u64) -> ! {
    let index = index as usize;
    // SAFETY: first thing on this CPU, interrupts off; every step is the one the boot CPU
    // did in `x86_64_entry` and `timer::start`, on this CPU's own tables and registers.
    unsafe {
        cpu::configure();
        gdt::init(index);
        trap::load();
        syscall::init(index);
        let _ = cpu::program_pat();
        apic::enable_secondary();
    }
    timer::start_secondary();
    AP_STARTED.store(true, Ordering::Release);
    // SAFETY: the kernel defines the hook with this signature.
    unsafe { kernel_secondary_main(index) }
}

// Hand-written because no crate covers it (see the module doc).
global_asm!(
    r#"
    .section .rodata.ap_trampoline, "a"
    .p2align 4
    .global ap_trampoline_start
    .global ap_trampoline_end
    .code16
    ap_trampoline_start:
        cli
        cld
        movw %cs, %ax
        movw %ax, %ds
        lgdtl (ap_gdt_pointer - ap_trampoline_start)
        movl %cr0, %eax
        orl $1, %eax
        movl %eax, %cr0
        ljmpl $0x08, $ap_entry32
    .p2align 3
    ap_gdt_pointer:
        .word ap_gdt_end - ap_gdt - 1
        .long ap_gdt
    ap_trampoline_end:

    .section .boot.data, "aw"
    .p2align 3
    ap_gdt:
        .quad 0
        .quad 0x00cf9a000000ffff   /* 0x08: 32-bit code */
        .quad 0x00cf92000000ffff   /* 0x10: data */
        .quad 0x00af9a000000ffff   /* 0x18: 64-bit code */
    ap_gdt_end:

    .section .boot.text, "ax"
    .code32
    ap_entry32:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
    "#,
    long_mode_on!(),
    r#"
        ljmp $0x18, $ap_long_mode
    .code64
    ap_long_mode:
        movabsq $ap_entry64, %rax
        jmpq *%rax

    .text
    ap_entry64:
        movq AP_ROOT(%rip), %rax
        movq %rax, %cr3
        movq AP_STACK(%rip), %rsp
        movq AP_INDEX(%rip), %rdi
        xorl %ebp, %ebp
        call {entry}
    1:  hlt
        jmp 1b
    "#,
    entry = sym x86_64_ap_entry,
    options(att_syntax)
);
