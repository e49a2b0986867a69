//! The Image entry: EL2 → EL1, FP/SIMD on, early page tables, MMU on, higher half.
//!
//! QEMU's `virt` loader reads the Linux arm64 Image header below, loads the image 2 MiB
//! into RAM and enters `_start` with `x0` = the device tree's physical address, MMU off.
//! The code here runs at that physical address using PC-relative addressing only. It drops
//! from EL2 to EL1 when entered at EL2, enables FP/SIMD (CPACR_EL1.FPEN) before any Rust
//! runs, clears `.bss`, builds two tiny translation tables — TTBR0 identity-maps the first
//! 4 GiB (1 GiB blocks: device memory below 1 GiB, normal write-back RAM above); TTBR1 maps
//! the same 4 GiB at `LINEAR_MAP_BASE` (where the kernel reads physical memory from its first
//! Rust instruction on, and which its own tables keep) and the kernel at
//! `KERNEL_VIRTUAL_OFFSET + physical` — programs MAIR/TCR/SCTLR, and
//! jumps to the higher half, where it calls [`crate::entry::aarch64_entry`].
//!
//! The early tables are replaced by the kernel's own once it has a frame allocator.
//!
//! Two steps are routines, called with `bl` (which needs no stack) rather than inline code,
//! because the secondary CPUs' entry in [`crate::smp`] runs them too: `early_el1_setup` (mask
//! interrupts, EL2 → EL1, FP/SIMD on) and `early_mmu_on` (MAIR, TCR, TTBR0/1, SCTLR). Both
//! are position-independent and run at the physical address, MMU off; `early_mmu_on`
//! returns through the identity map in TTBR0. One copy means the boot CPU and the others
//! cannot drift apart in how they configure EL2 or the MMU.

use core::arch::global_asm;

/// Size of the boot stack the kernel runs on until it has its own.
pub const BOOT_STACK_SIZE: usize = 64 * 1024;

/// The stack the boot code switches to, with a page below it that the kernel's own tables
/// leave unmapped, so running off the bottom faults instead of corrupting `.bss`.
#[repr(C, align(4096))]
pub struct BootStack {
    /// Never mapped once the kernel's tables are active.
    pub guard: [u8; 4096],
    /// The stack itself; it grows down from the end.
    pub stack: [u8; BOOT_STACK_SIZE],
}

/// The boot stack (in `.bss`).
#[no_mangle]
pub static mut BOOT_STACK: BootStack = BootStack {
    guard: [0; 4096],
    stack: [0; BOOT_STACK_SIZE],
};

/// A 4 KiB translation table.
#[repr(C, align(4096))]
pub struct Table(pub [u64; 512]);

/// Early translation tables: TTBR0 level 0 and 1, TTBR1 level 0 and 1.
#[no_mangle]
pub static mut EARLY_TABLES: [Table; 4] = [const { Table([0; 512]) }; 4];

/// Whether the kernel was entered at EL2 (PSCI then goes through `smc`, not `hvc`).
#[no_mangle]
pub static mut ENTERED_AT_EL2: u64 = 0;

// Hand-written: the entry trampoline runs before there is a stack, MMU or Rust runtime.
global_asm!(
    r#"
    .section .text.head, "ax"
    .global _start
    _start:
        b primary_entry
        .long 0
        .quad 0                 /* text_offset: load 2 MiB into RAM */
        .quad __image_size      /* image_size, including .bss */
        .quad 0x2               /* flags: little-endian, 4 KiB pages */
        .quad 0
        .quad 0
        .quad 0
        .ascii "ARM\x64"
        .long 0

    primary_entry:
        mov x19, x0                         /* device tree physical address */
        bl early_el1_setup
        mov x20, x1                         /* 1 when entered at EL2 */

        /* Clear .bss (physical addresses: PC-relative from the physical PC). */
        adrp x0, __bss_start
        add x0, x0, :lo12:__bss_start
        adrp x1, __bss_end
        add x1, x1, :lo12:__bss_end
    1:  cmp x0, x1
        b.hs 2f
        stp xzr, xzr, [x0], #16
        b 1b
    2:
        adrp x0, ENTERED_AT_EL2
        add x0, x0, :lo12:ENTERED_AT_EL2
        str x20, [x0]

        /* x0 = TTBR0 L0, x1 = TTBR0 L1, x2 = TTBR1 L0, x3 = TTBR1 L1. */
        adrp x0, EARLY_TABLES
        add x0, x0, :lo12:EARLY_TABLES
        add x1, x0, #4096
        add x2, x0, #8192
        add x3, x0, #12288

        orr x4, x1, #3                      /* table descriptor */
        str x4, [x0]
        ldr x4, ={device_block}             /* 0 .. 1 GiB: MMIO */
        str x4, [x1]
        ldr x4, ={normal_block}             /* 1 .. 4 GiB: RAM, write-back */
        mov x5, #1
    3:  orr x6, x4, x5, lsl #30
        str x6, [x1, x5, lsl #3]
        add x5, x5, #1
        cmp x5, #4
        b.ne 3b

        orr x4, x1, #3                      /* the linear map at LINEAR_MAP_BASE */
        str x4, [x2, #256 * 8]
        orr x4, x3, #3
        str x4, [x2, #511 * 8]
        ldr x4, ={normal_block}             /* -1 GiB .. top: RAM from 0x40000000 */
        orr x4, x4, #0x40000000
        str x4, [x3, #511 * 8]

        mov x1, x2
        bl early_mmu_on

        ldr x4, =higher_half
        br x4

    /* Shared with the secondary CPUs' entry (`smp.rs`), called with `bl` (no stack needed):
       MMU off, physical PC. Masks interrupts, drops from EL2 to EL1 when entered at EL2,
       and turns FP/SIMD traps off. Returns at EL1 with x1 = 1 when entered at EL2, else 0.
       Clobbers x0 and x1; x30 survives the eret, so `ret` works from either level. */
    .global early_el1_setup
    early_el1_setup:
        msr daifset, #0xf
        mov x1, #0
        mrs x0, CurrentEL
        lsr x0, x0, #2
        cmp x0, #2
        b.ne 2f

        /* EL2: EL1 is AArch64, may use the counters, does not trap FP/SIMD. */
        mov x0, #(1 << 31)
        msr hcr_el2, x0
        mrs x0, cnthctl_el2
        orr x0, x0, #3
        msr cnthctl_el2, x0
        msr cntvoff_el2, xzr
        mov x0, #0x33ff
        msr cptr_el2, x0
        msr hstr_el2, xzr
        /* A GICv3 CPU interface (ID_AA64PFR0_EL1.GIC != 0): let EL1 use its system
           registers (ICC_SRE_EL2.SRE and .Enable), or ICC_SRE_EL1 would trap to EL2. */
        mrs x0, id_aa64pfr0_el1
        ubfx x0, x0, #24, #4
        cbz x0, 1f
        mrs x0, S3_4_C12_C9_5               /* ICC_SRE_EL2 */
        orr x0, x0, #1                      /* SRE */
        orr x0, x0, #(1 << 3)               /* Enable: EL1 may use ICC_SRE_EL1 */
        msr S3_4_C12_C9_5, x0
        isb
    1:
        ldr x0, ={sctlr_mmu_off}
        msr sctlr_el1, x0
        mov x0, #0x3c5                      /* EL1h, all exceptions masked */
        msr spsr_el2, x0
        adr x0, 2f
        msr elr_el2, x0
        mov x1, #1
        eret

    2:  mov x0, #(3 << 20)                  /* CPACR_EL1.FPEN: no FP/SIMD traps */
        msr cpacr_el1, x0
        isb
        ret

    /* Shared with the secondary CPUs' entry, called with `bl` at EL1, MMU off, physical PC:
       x0 = TTBR0 root (an identity map of this code), x1 = TTBR1 root. Programs MAIR and TCR
       (IPS from ID_AA64MMFR0_EL1.PARange) and turns the MMU on; returns through the identity
       map, so the caller then jumps to the higher half itself. Clobbers x4 and x5. */
    .global early_mmu_on
    early_mmu_on:
        ldr x4, ={mair}
        msr mair_el1, x4
        ldr x4, ={tcr}
        mrs x5, id_aa64mmfr0_el1
        and x5, x5, #7                      /* PARange → TCR_EL1.IPS */
        bfi x4, x5, #32, #3
        msr tcr_el1, x4
        msr ttbr0_el1, x0
        msr ttbr1_el1, x1
        isb
        tlbi vmalle1
        ic iallu
        dsb nsh
        isb
        ldr x4, ={sctlr_mmu_on}
        msr sctlr_el1, x4
        isb
        ret
    .ltorg

    .text
    higher_half:
        ldr x4, =BOOT_STACK + {stack_size} + 4096
        mov sp, x4
        mov x29, xzr
        mov x30, xzr
        mov x0, x19
        bl {entry}
    4:  wfi
        b 4b
    "#,
    sctlr_mmu_off = const crate::early::SCTLR_MMU_OFF,
    sctlr_mmu_on = const crate::early::SCTLR_MMU_ON,
    device_block = const crate::early::EARLY_DEVICE_BLOCK,
    normal_block = const crate::early::EARLY_NORMAL_BLOCK,
    mair = const crate::early::MAIR,
    tcr = const crate::early::TCR_WITHOUT_IPS,
    stack_size = const BOOT_STACK_SIZE,
    entry = sym crate::entry::aarch64_entry,
);
