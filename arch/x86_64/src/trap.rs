//! Exceptions and interrupts: the IDT, one assembly stub per vector, and the dispatcher.
//!
//! Every vector enters `trap_common` with the same frame shape (the CPU's error code, or a
//! zero pushed by the stub, then the vector number), which `swapgs`es if it came from user
//! mode (see [`crate::syscall`] for the GS convention), saves all general registers and
//! calls [`x86_64_trap`] with a pointer to the [`TrapFrame`]; `trap_return` undoes that.
//! Debug, NMI, machine check and double fault arrive on their own interrupt stacks
//! ([`crate::interrupt_stacks`]), even from user mode. The last three are fatal wherever they
//! come from; a debug exception from user mode is the process's own doing, so `trap_common`
//! first moves its frame to the thread's kernel stack, where every other trap from user mode
//! is, and it is handled (the process killed) like any other user fault.
//!
//! Dispatch: the LAPIC timer (from user mode or the idle loop) is acknowledged and handed to
//! the kernel's tick hook; the spurious vector is ignored; an exception from user mode goes
//! to the kernel's user-fault hook. In the kernel, a breakpoint (`int3`) is counted and
//! resumed, a probe's fault is recovered, and everything else prints its name, error code,
//! faulting address (for page faults) and all registers, then powers the machine off with a
//! failure status, so nothing ends in a silent triple fault.

use crate::syscall::PerCpu;
use crate::{apic, interrupt_stacks};
use core::arch::global_asm;
use core::fmt::Write;
use core::mem::{offset_of, size_of};
use core::ptr::{addr_of, addr_of_mut};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel_core::ExitStatus;
use x86_64::registers::control::Cr2;
use x86_64::structures::idt::{Entry, EntryOptions, InterruptDescriptorTable};
use x86_64::VirtAddr;

/// Registers saved on every trap, lowest address first.
#[repr(C)]
#[derive(Debug)]
#[allow(missing_docs, reason = "register names are their own documentation")]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

const _: () = assert!(size_of::<TrapFrame>() == 22 * 8);

const NON_MASKABLE_INTERRUPT: u64 = 2;
const BREAKPOINT: u64 = 3;
const DOUBLE_FAULT: u64 = 8;
const MACHINE_CHECK: u64 = 18;
const GENERAL_PROTECTION: u64 = 13;
const PAGE_FAULT: u64 = 14;

/// CR2: the address of the last page fault.
fn fault_address() -> u64 {
    Cr2::read_raw()
}

static BREAKPOINTS_CAUGHT: AtomicU64 = AtomicU64::new(0);

/// How many `int3` traps were caught and resumed.
pub fn breakpoints_caught() -> u64 {
    BREAKPOINTS_CAUGHT.load(Ordering::Relaxed)
}

/// The architectural name of an exception vector.
pub fn exception_name(vector: u64) -> &'static str {
    const NAMES: [&str; 32] = [
        "divide error",
        "debug",
        "non-maskable interrupt",
        "breakpoint",
        "overflow",
        "bound range exceeded",
        "invalid opcode",
        "device not available",
        "double fault",
        "coprocessor segment overrun",
        "invalid TSS",
        "segment not present",
        "stack-segment fault",
        "general protection fault",
        "page fault",
        "reserved",
        "x87 floating-point error",
        "alignment check",
        "machine check",
        "SIMD floating-point error",
        "virtualization exception",
        "control protection exception",
        "reserved",
        "reserved",
        "reserved",
        "reserved",
        "reserved",
        "reserved",
        "hypervisor injection exception",
        "VMM communication exception",
        "security exception",
        "reserved",
    ];
    NAMES
        .get(vector as usize)
        .copied()
        .unwrap_or("external interrupt")
}

/// Called by `trap_common` for every vector.
extern "C" fn x86_64_trap(frame: &mut TrapFrame) {
    let from_user = frame.cs & 3 == 3;
    match frame.vector {
        apic::TIMER_VECTOR => {
            // The clock counts the boot CPU's ticks only (when it counts ticks at all).
            if crate::syscall::cpu_index() == 0 {
                crate::clock::tick();
            }
            apic::end_of_interrupt();
            crate::user::timer_tick();
        }
        apic::SPURIOUS_VECTOR => {}
        apic::IPI_VECTOR => {
            apic::end_of_interrupt();
            crate::smp::ipi();
        }
        vector if crate::device_interrupts::is_device_vector(vector) => {
            crate::device_interrupts::handle(vector as u32);
            apic::end_of_interrupt();
        }
        vector if from_user && is_user_fault(vector) => {
            let address = if vector == PAGE_FAULT {
                fault_address()
            } else {
                frame.rip
            };
            crate::user::fault(frame, address, exception_name(vector));
        }
        BREAKPOINT => {
            BREAKPOINTS_CAUGHT.fetch_add(1, Ordering::Relaxed);
        }
        PAGE_FAULT | GENERAL_PROTECTION if !from_user => {
            let address = if frame.vector == PAGE_FAULT {
                fault_address()
            } else {
                0
            };
            if !crate::user_copy::recover(frame)
                && !crate::probe::recover(frame, address, exception_name(frame.vector))
            {
                fatal(frame);
            }
        }
        _ => fatal(frame),
    }
    if from_user {
        crate::user::prepare_return(frame);
    }
}

/// Whether an exception from user mode is the process's own doing (the kernel kills it)
/// rather than the machine's (NMI, double fault, machine check: reported, fatal).
fn is_user_fault(vector: u64) -> bool {
    vector < 32
        && !matches!(
            vector,
            NON_MASKABLE_INTERRUPT | DOUBLE_FAULT | MACHINE_CHECK
        )
}

fn fatal(frame: &TrapFrame) -> ! {
    report(frame);
    crate::power_off(ExitStatus::Failure);
}

fn report(frame: &TrapFrame) {
    let mut out = crate::Console;
    let _ = writeln!(
        out,
        "\nFATAL: unexpected exception {} ({}) in {} mode, error code {:#x}",
        frame.vector,
        exception_name(frame.vector),
        if frame.cs & 3 == 3 { "user" } else { "kernel" },
        frame.error_code
    );
    if frame.vector == PAGE_FAULT {
        let _ = writeln!(out, "  faulting address {:#018x}", fault_address());
    }
    let frame_address = frame as *const TrapFrame as u64;
    if let Some(stack) = interrupt_stacks::all()
        .iter()
        .find(|stack| (stack.bottom..stack.top).contains(&frame_address))
    {
        let _ = writeln!(out, "  reported on its own stack ({})", stack.name);
    }
    let _ = writeln!(
        out,
        "  rip {:#018x} cs {:#06x} rflags {:#010x} rsp {:#018x} ss {:#06x}",
        frame.rip, frame.cs, frame.rflags, frame.rsp, frame.ss
    );
    let registers = [
        ("rax", frame.rax),
        ("rbx", frame.rbx),
        ("rcx", frame.rcx),
        ("rdx", frame.rdx),
        ("rsi", frame.rsi),
        ("rdi", frame.rdi),
        ("rbp", frame.rbp),
        ("r8", frame.r8),
        ("r9", frame.r9),
        ("r10", frame.r10),
        ("r11", frame.r11),
        ("r12", frame.r12),
        ("r13", frame.r13),
        ("r14", frame.r14),
        ("r15", frame.r15),
    ];
    for row in registers.chunks(4) {
        let _ = write!(out, " ");
        for (name, value) in row {
            let _ = write!(out, " {name:>3} {value:#018x}");
        }
        let _ = writeln!(out);
    }
}

/// Each stub is padded to this many bytes so stub `n` is at `trap_stubs + n * STUB_SIZE`.
const STUB_SIZE: u64 = 16;

static mut IDT: InterruptDescriptorTable = InterruptDescriptorTable::new();

extern "C" {
    static trap_stubs: u8;
}

/// Points `entry` at vector `vector`'s stub: a present ring-0 interrupt gate (interrupts stay
/// off in handlers) on the current (kernel) code segment.
///
/// # Safety
/// `entry` must be the IDT entry for `vector`, and the GDT must be loaded.
unsafe fn point<F>(entry: &mut Entry<F>, vector: u8) -> &mut EntryOptions {
    // `trap_stubs` is defined below; only its address is taken.
    let handler = addr_of!(trap_stubs) as u64 + u64::from(vector) * STUB_SIZE;
    // SAFETY: the stub for `vector` is at `handler` and expects exactly the frame the CPU
    // pushes for this vector (it pushes a zero error code itself where the CPU does not), which
    // is what the crate's handler types describe; the crate takes the current CS.
    unsafe { entry.set_handler_addr(VirtAddr::new(handler)) }
}

/// Fills and loads the IDT: every architectural exception and every external vector goes to
/// its stub; the reserved exception vectors stay absent (their delivery would be a #GP,
/// reported like any other). NMI, machine check, debug and double fault run on their own
/// interrupt stacks.
///
/// # Safety
/// Call once, early, on the boot CPU, with interrupts disabled, after [`crate::gdt::init`].
pub unsafe fn init() {
    // SAFETY: single-threaded early boot (see `# Safety`); each entry is paired with its own
    // vector number; the IST indices name the stacks `gdt::init` installed, one per vector.
    unsafe {
        let idt = &mut *addr_of_mut!(IDT);
        point(&mut idt.divide_error, 0);
        point(&mut idt.debug, 1).set_stack_index(interrupt_stacks::DEBUG);
        point(&mut idt.non_maskable_interrupt, 2)
            .set_stack_index(interrupt_stacks::NON_MASKABLE_INTERRUPT);
        point(&mut idt.breakpoint, 3);
        point(&mut idt.overflow, 4);
        point(&mut idt.bound_range_exceeded, 5);
        point(&mut idt.invalid_opcode, 6);
        point(&mut idt.device_not_available, 7);
        point(&mut idt.double_fault, 8).set_stack_index(interrupt_stacks::DOUBLE_FAULT);
        point(&mut idt[9], 9);
        point(&mut idt.invalid_tss, 10);
        point(&mut idt.segment_not_present, 11);
        point(&mut idt.stack_segment_fault, 12);
        point(&mut idt.general_protection_fault, 13);
        point(&mut idt.page_fault, 14);
        point(&mut idt.x87_floating_point, 16);
        point(&mut idt.alignment_check, 17);
        point(&mut idt.machine_check, 18).set_stack_index(interrupt_stacks::MACHINE_CHECK);
        point(&mut idt.simd_floating_point, 19);
        point(&mut idt.virtualization, 20);
        point(&mut idt.cp_protection_exception, 21);
        point(&mut idt.hv_injection_exception, 28);
        point(&mut idt.vmm_communication_exception, 29);
        point(&mut idt.security_exception, 30);
        for vector in 32..=255u8 {
            point(&mut idt[vector], vector);
        }
        idt.load_unsafe();
    }
}

/// Loads the IDT [`init`] filled on a secondary CPU.
///
/// # Safety
/// After [`init`] ran on the boot CPU, with interrupts disabled, after this CPU's GDT.
pub unsafe fn load() {
    // SAFETY: the IDT is filled and never changes after `init`; loading it only points this
    // CPU's IDTR at it.
    unsafe { (*addr_of!(IDT)).load_unsafe() };
}

// Hand-written because no crate covers it: the `x86_64` crate's handlers need the unstable
// `x86-interrupt` ABI, and the kernel wants one uniform frame (all registers, vector, error
// code) that it can edit and resume from, plus `swapgs` on entry from user mode.
global_asm!(
    r#"
    .text
    .p2align 4
    .global trap_stubs
    trap_stubs:
    .set vector, 0
    .rept 256
        .p2align 4
        .if vector == 8 || vector == 10 || vector == 11 || vector == 12 || vector == 13 || vector == 14 || vector == 17 || vector == 21 || vector == 29 || vector == 30
        .else
            pushq $0
        .endif
        pushq $vector
        jmp trap_common
        .set vector, vector + 1
    .endr

    trap_common:
        /* From user mode (RPL 3 in the saved CS): switch to the kernel's GS base. */
        testb $3, 24(%rsp)
        jz 1f
        swapgs
        /* A debug exception from user mode (a process that set RFLAGS.TF) arrives on the
           debug interrupt stack; move its frame (vector, error code and the CPU's five words)
           to the thread's kernel stack, where the CPU puts every other trap from user mode,
           so the kernel may kill the process and switch threads from it. NMI, machine check
           and double fault stay where they are: they are fatal, and a double fault may mean
           the kernel stack itself is unusable. */
        cmpq $1, (%rsp)
        jne 1f
        movq %rax, %gs:{scratch}
        movq %gs:{kernel_stack}, %rax
        andq $-16, %rax
        subq $56, %rax
        pushq 48(%rsp)
        popq 48(%rax)
        pushq 40(%rsp)
        popq 40(%rax)
        pushq 32(%rsp)
        popq 32(%rax)
        pushq 24(%rsp)
        popq 24(%rax)
        pushq 16(%rsp)
        popq 16(%rax)
        pushq 8(%rsp)
        popq 8(%rax)
        pushq (%rsp)
        popq (%rax)
        movq %rax, %rsp
        movq %gs:{scratch}, %rax
    1:  pushq %rax
        pushq %rbx
        pushq %rcx
        pushq %rdx
        pushq %rsi
        pushq %rdi
        pushq %rbp
        pushq %r8
        pushq %r9
        pushq %r10
        pushq %r11
        pushq %r12
        pushq %r13
        pushq %r14
        pushq %r15
        movq %rsp, %rdi
        cld
        call {handler}
    .global trap_return
    trap_return:
        popq %r15
        popq %r14
        popq %r13
        popq %r12
        popq %r11
        popq %r10
        popq %r9
        popq %r8
        popq %rbp
        popq %rdi
        popq %rsi
        popq %rdx
        popq %rcx
        popq %rbx
        popq %rax
        testb $3, 24(%rsp)
        jz 2f
        swapgs
    2:  addq $16, %rsp
        iretq
    "#,
    handler = sym x86_64_trap,
    scratch = const offset_of!(PerCpu, trap_scratch),
    kernel_stack = const offset_of!(PerCpu, kernel_stack_top),
    options(att_syntax)
);
