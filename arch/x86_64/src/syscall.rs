//! The `syscall` instruction's entry and the `sysretq`/`iretq` return, with the per-CPU block.
//!
//! `syscall` jumps to `x86_64_syscall_entry` (LSTAR) in ring 0 with interrupts, direction,
//! trap, nested-task and alignment-check flags cleared (SFMASK), but still on the user stack
//! and with the user's GS base. The stub `swapgs`es to reach the [`PerCpu`] block, parks the
//! user stack pointer there, loads the thread's kernel stack top from it and builds a
//! [`TrapFrame`] exactly as an interrupt from user mode would (rip = rcx, rflags = r11, the
//! user selectors, vector [`SYSTEM_CALL_VECTOR`]). After the kernel's hook it returns with
//! `sysretq` when the frame still allows it (user-half rip, rcx = rip, r11 = rflags), else
//! through the trap path's `iretq`, so a non-canonical rip never reaches `sysretq` (which
//! would fault in ring 0 on Intel CPUs).
//!
//! GS convention: in the kernel, GS base is the [`PerCpu`] block and KERNEL_GS_BASE holds the
//! user's GS base; every way into user mode `swapgs`es, and every way back from it (this
//! entry, and `trap_common` when the saved CS has RPL 3) `swapgs`es again.

use crate::gdt::{selector, KERNEL_CODE, KERNEL_DATA, USER_CODE, USER_DATA};
use crate::trap::TrapFrame;
use core::arch::global_asm;
use core::mem::offset_of;
use core::sync::atomic::{AtomicU64, Ordering};
use x86_64::registers::model_specific::{GsBase, KernelGsBase, LStar, SFMask, Star};
use x86_64::registers::rflags::RFlags;
use x86_64::VirtAddr;

/// The `vector` a system call's frame carries (not a real vector: above 255).
pub const SYSTEM_CALL_VECTOR: u64 = 0x100;

/// RFLAGS bits `syscall` clears: TF, IF, DF, NT and AC.
const SYSTEM_CALL_FLAG_MASK: RFlags = RFlags::TRAP_FLAG
    .union(RFlags::INTERRUPT_FLAG)
    .union(RFlags::DIRECTION_FLAG)
    .union(RFlags::NESTED_TASK)
    .union(RFlags::ALIGNMENT_CHECK);

/// CPUs this port can run ([`crate::smp`] starts at most this many).
pub const MAX_CPUS: usize = 8;

/// What the entry stubs reach through GS: one per CPU.
#[repr(C)]
pub struct PerCpu {
    /// Top of the running thread's kernel stack, where a system call's frame is built.
    pub(crate) kernel_stack_top: AtomicU64,
    /// The user stack pointer, parked here by the entry stub while it changes stacks.
    user_stack: AtomicU64,
    /// A register parked here by `trap_common` while it moves a trap frame from an
    /// interrupt stack to the kernel stack (a debug exception from user mode).
    pub(crate) trap_scratch: AtomicU64,
    /// This CPU's index (`kernel_core::Arch::cpu_index`).
    pub(crate) index: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)]
const NEW_PER_CPU: PerCpu = PerCpu {
    kernel_stack_top: AtomicU64::new(0),
    user_stack: AtomicU64::new(0),
    trap_scratch: AtomicU64::new(0),
    index: AtomicU64::new(0),
};

static PER_CPU: [PerCpu; MAX_CPUS] = [NEW_PER_CPU; MAX_CPUS];

/// Whether GS holds a per-CPU block yet (before, every CPU question answers CPU 0).
static GS_READY: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// This CPU's index, read through GS (0 before [`init`]).
#[inline]
pub fn cpu_index() -> usize {
    if !GS_READY.load(Ordering::Relaxed) {
        return 0;
    }
    let index: u64;
    // SAFETY: in the kernel GS base is this CPU's `PerCpu` block (see the module doc), and
    // reading one field has no side effects.
    unsafe {
        core::arch::asm!(
            "mov {index}, gs:[{offset}]",
            index = out(reg) index,
            offset = const offset_of!(PerCpu, index),
            options(nostack, readonly, preserves_flags)
        );
    }
    index as usize
}

/// Programs the `syscall` MSRs and the GS bases. EFER.SCE is set by [`crate::cpu::configure`].
///
/// # Panics
/// If the GDT's selectors do not have the layout `sysret` needs (the crate checks it; the
/// constants are asserted below too, so this is a broken invariant of [`crate::gdt`]).
///
/// # Safety
/// Call once, early, on each CPU (`index`: its CPU index), with interrupts disabled, after
/// [`crate::gdt::init`].
pub unsafe fn init(index: usize) {
    // STAR[47:32]: `syscall` loads CS = 0x08 and SS = 0x10. STAR[63:48]: `sysretq` loads
    // SS = 0x10 + 8 = 0x18 | 3 and CS = 0x10 + 16 = 0x20 | 3.
    const _: () = assert!(KERNEL_DATA + 8 == (USER_DATA & !3));
    const _: () = assert!(KERNEL_DATA + 16 == (USER_CODE & !3));
    let entry = x86_64_syscall_entry as *const () as u64;
    let star = Star::write(
        selector(USER_CODE),
        selector(USER_DATA),
        selector(KERNEL_CODE),
        selector(KERNEL_DATA),
    );
    assert!(
        star.is_ok(),
        "GDT layout unfit for syscall/sysret: {star:?}"
    );
    // Nothing enters user mode before this runs (see `# Safety`), so changing the entry point
    // and the per-CPU base cannot affect a running system call.
    LStar::write(VirtAddr::new(entry));
    SFMask::write(SYSTEM_CALL_FLAG_MASK);
    PER_CPU[index].index.store(index as u64, Ordering::Relaxed);
    GsBase::write(VirtAddr::new(&PER_CPU[index] as *const PerCpu as u64));
    KernelGsBase::write(VirtAddr::new(0));
    GS_READY.store(true, Ordering::Release);
}

/// Sets the kernel stack a system call's frame is built on, on this CPU.
pub fn set_kernel_stack(top: u64) {
    PER_CPU[cpu_index()]
        .kernel_stack_top
        .store(top, Ordering::Relaxed);
}

extern "C" {
    fn x86_64_syscall_entry();
}

/// Called by the entry stub with the frame; returns whether `sysretq` may resume it.
extern "C" fn x86_64_system_call(frame: &mut TrapFrame) -> u64 {
    crate::user::system_call(frame);
    crate::user::prepare_return(frame);
    u64::from(sysret_can_resume(frame))
}

/// `sysretq` resumes at rcx with rflags from r11 and cannot reach the upper half.
fn sysret_can_resume(frame: &TrapFrame) -> bool {
    frame.rip < kernel_core::layout::USER_TOP && frame.rcx == frame.rip && frame.r11 == frame.rflags
}

// Hand-written because no crate covers it: the stub runs before there is a usable stack
// (it changes from the user's to the kernel's) and returns with `sysretq`.
global_asm!(
    r#"
    .text
    .global x86_64_syscall_entry
    x86_64_syscall_entry:
        swapgs
        movq %rsp, %gs:{user_stack}
        movq %gs:{kernel_stack}, %rsp
        pushq ${user_data}
        pushq %gs:{user_stack}
        pushq %r11
        pushq ${user_code}
        pushq %rcx
        pushq $0
        pushq ${vector}
        pushq %rax
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
        call {handler}
        testq %rax, %rax
        jz trap_return
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
        /* Skip vector and error code, rip, cs and rflags: rcx and r11 already hold them. */
        movq 40(%rsp), %rsp
        swapgs
        sysretq
    "#,
    user_stack = const offset_of!(PerCpu, user_stack),
    kernel_stack = const offset_of!(PerCpu, kernel_stack_top),
    user_data = const USER_DATA as u64,
    user_code = const USER_CODE as u64,
    vector = const SYSTEM_CALL_VECTOR,
    handler = sym x86_64_system_call,
    options(att_syntax)
);
