//! PVH entry: the 32-bit trampoline into long mode and the higher half.
//!
//! QEMU (like Xen and Firecracker) finds the `XEN_ELFNOTE_PHYS32_ENTRY` note and enters
//! `pvh_entry32` in 32-bit protected mode, paging off, with `%ebx` holding the physical
//! address of `hvm_start_info`. The trampoline builds early page tables that map the first
//! 4 GiB three times — identity (so the trampoline keeps running), at `LINEAR_MAP_BASE` (where
//! the kernel reads physical memory from its first Rust instruction on, and which its own
//! tables keep) and at `KERNEL_VIRTUAL_BASE` (where the kernel is linked) — turns on PAE, long
//! mode and NX, and
//! jumps to `pvh_entry64` in the higher half, which clears `.bss`, switches to the boot stack
//! and calls [`crate::entry::x86_64_entry`].
//!
//! The early tables use 2 MiB write-back pages, except for the first 2 MiB, which get 4 KiB
//! pages: that range holds RAM, the legacy VGA window and the BIOS ROMs, which the firmware's
//! MTRRs give different memory types, and the SDM leaves a large page spanning more than one
//! memory type undefined. With 4 KiB pages each page takes its own range's type. Above 2 MiB
//! the early map still assumes MTRR boundaries fall on 2 MiB (true of QEMU, and of the usual
//! firmware layout of RAM, the PCI hole and the APIC range); it only lives until the kernel
//! replaces these tables with its own address space, which maps RAM alone, once it has a
//! frame allocator.
//!
//! The trampoline sets only what long mode needs (CR4.PAE and PGE, EFER.LME and NXE, CR0.PG
//! and PE); the rest of the CPU's configuration is typed Rust in [`crate::cpu::configure`].
//! That sequence is the macro [`long_mode_on`], which the APs' entry in [`crate::smp`] runs
//! too, so the two cannot drift apart; that module's doc says why the rest is not shared.
//!
//! Hand-written assembly, because no crate covers it: this runs in 32-bit mode with paging
//! off, before there is a stack.

use core::arch::global_asm;

/// Size of the boot stack the kernel runs on until it has its own.
pub const BOOT_STACK_SIZE: usize = 64 * 1024;

/// The stack `pvh_entry64` switches to, with a page below it that the kernel's own tables
/// leave unmapped, so running off the bottom faults instead of corrupting `.bss`.
#[repr(C, align(4096))]
pub struct BootStack {
    /// Never mapped once the kernel's tables are active.
    pub guard: [u8; 4096],
    /// The stack itself; it grows down from the end.
    pub stack: [u8; BOOT_STACK_SIZE],
}

/// The boot stack (in `.bss`, so zeroed before use).
#[no_mangle]
pub static mut BOOT_STACK: BootStack = BootStack {
    guard: [0; 4096],
    stack: [0; BOOT_STACK_SIZE],
};

/// The switch into long mode that both the boot CPU (`pvh_entry32`) and the APs
/// (`ap_entry32` in [`crate::smp`]) run, as an assembly template piece (AT&T syntax, 32-bit
/// protected mode, paging off, no stack): CR4.PAE (5) and PGE (7), CR3 = the early tables,
/// EFER.LME (8) and NXE (11), CR0.PG (31) and PE (0); only what long mode needs, the rest is
/// set by `cpu::configure` in Rust. It clobbers `%eax`, `%ecx` and `%edx`. The caller then
/// far-jumps to a 64-bit code segment of its own GDT. A macro rather than a routine both jump
/// to: without a stack there is no `call`, and the text is the same for both.
macro_rules! long_mode_on {
    () => {
        r#"
        movl %cr4, %eax
        orl $0xa0, %eax
        movl %eax, %cr4
        movl $early_pml4, %eax
        movl %eax, %cr3
        movl $0xC0000080, %ecx
        rdmsr
        orl $0x900, %eax
        wrmsr
        movl %cr0, %eax
        orl $0x80000001, %eax
        movl %eax, %cr0
        "#
    };
}
pub(crate) use long_mode_on;

// Hand-written because no crate covers it (see the module doc): 32-bit entry, paging off.
global_asm!(
    r#"
    /* The PVH note: type 18 = XEN_ELFNOTE_PHYS32_ENTRY, name "Xen", a 32-bit physical entry. */
    .section .note.Xen, "a", @note
    .p2align 2
    .long 4
    .long 4
    .long 18
    .asciz "Xen"
    .p2align 2
    .long pvh_entry32

    .section .boot.page_tables, "aw"
    .p2align 12
    .global early_pml4
    early_pml4:      .fill 4096, 1, 0
    early_pdpt_low:  .fill 4096, 1, 0
    early_pdpt_high: .fill 4096, 1, 0
    early_pd:        .fill 4 * 4096, 1, 0
    early_pt_low:    .fill 4096, 1, 0

    .section .boot.data, "aw"
    .p2align 3
    early_gdt:
        .quad 0
        .quad 0x00af9a000000ffff   /* 0x08: 64-bit kernel code */
        .quad 0x00cf92000000ffff   /* 0x10: kernel data */
    early_gdt_end:
    early_gdt_pointer:
        .word early_gdt_end - early_gdt - 1
        .long early_gdt
    start_info_physical:
        .long 0

    .section .boot.text, "ax"
    .code32
    .global pvh_entry32
    pvh_entry32:
        cli
        cld
        movl %ebx, start_info_physical

        /* Identity and higher-half tables over 4 GiB of 2 MiB pages: P | RW | PS. */
        movl $early_pd, %edi
        xorl %ecx, %ecx
    1:  movl %ecx, %eax
        shll $21, %eax
        orl $0x83, %eax
        movl %eax, (%edi, %ecx, 8)
        movl %ecx, %eax
        shrl $11, %eax
        movl %eax, 4(%edi, %ecx, 8)
        incl %ecx
        cmpl $2048, %ecx
        jne 1b

        /* The first 2 MiB as 512 pages of 4 KiB, P | RW (see the module doc). */
        movl $early_pt_low, %edi
        xorl %ecx, %ecx
    3:  movl %ecx, %eax
        shll $12, %eax
        orl $0x3, %eax
        movl %eax, (%edi, %ecx, 8)
        incl %ecx
        cmpl $512, %ecx
        jne 3b
        movl $early_pt_low + 0x0003, %eax
        movl %eax, early_pd

        /* Four PDPT entries for the identity map, two (-2 GiB, -1 GiB) for the kernel. */
        movl $early_pd + 0x0003, %eax
        movl %eax, early_pdpt_low
        addl $4096, %eax
        movl %eax, early_pdpt_low + 8
        addl $4096, %eax
        movl %eax, early_pdpt_low + 16
        addl $4096, %eax
        movl %eax, early_pdpt_low + 24
        movl $early_pd + 0x0003, %eax
        movl %eax, early_pdpt_high + 510 * 8
        addl $4096, %eax
        movl %eax, early_pdpt_high + 511 * 8
        movl $early_pdpt_low + 0x0003, %eax
        movl %eax, early_pml4
        movl %eax, early_pml4 + 256 * 8     /* the linear map at LINEAR_MAP_BASE */
        movl $early_pdpt_high + 0x0003, %eax
        movl %eax, early_pml4 + 511 * 8

    "#,
    long_mode_on!(),
    r#"
        lgdt early_gdt_pointer
        ljmp $0x08, $pvh_long_mode

    .code64
    pvh_long_mode:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        xorw %ax, %ax
        movw %ax, %fs
        movw %ax, %gs
        movabsq $pvh_entry64, %rax
        jmpq *%rax

    .text
    .global pvh_entry64
    pvh_entry64:
        /* Clear .bss (the boot stack lives there, so do it before using a stack). */
        movabsq $__bss_start, %rdi
        movabsq $__bss_end, %rcx
        subq %rdi, %rcx
        shrq $3, %rcx
        xorl %eax, %eax
        rep stosq
        movabsq $BOOT_STACK, %rsp
        addq ${stack_size} + 4096, %rsp
        xorl %ebp, %ebp
        movl start_info_physical, %edi
        call {entry}
    2:  hlt
        jmp 2b
    "#,
    stack_size = const BOOT_STACK_SIZE,
    entry = sym crate::entry::x86_64_entry,
    options(att_syntax)
);
