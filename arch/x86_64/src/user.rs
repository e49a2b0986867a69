//! [`UserMode`] for [`X86_64`]: user frames, the kernel's hooks, and the user-mode contract.
//!
//! A user thread's frame is the trap path's [`TrapFrame`], whether it came in by `syscall`
//! or by an interrupt or exception (its `vector` is then `0x100`), so the kernel sees one
//! type. Before any return to user
//! mode, [`prepare_return`] makes the frame safe to resume whatever the kernel wrote into it:
//! user selectors, only user-controllable flags (plus IF), and canonical addresses.

use crate::context::{self, Context, USER_FLAGS};
use crate::trap::TrapFrame;
use crate::{cpu, gdt, syscall, timer, X86_64};
use core::sync::atomic::{compiler_fence, Ordering};
use kernel_core::user_mode::{MapDevice, UserMode, UserRegisters};
use kernel_core::Fault;
use x86_64::instructions::interrupts;

/// A user thread's registers as saved on its kernel stack.
pub type UserFrame = TrapFrame;

extern "Rust" {
    fn kernel_system_call(frame: &mut UserFrame);
    fn kernel_timer_tick();
    fn kernel_user_fault(frame: &mut UserFrame, fault: Fault);
}

/// RFLAGS bits user mode may set: CF, PF, AF, ZF, SF, TF, DF, OF, AC and ID. IOPL, NT, RF,
/// VM, VIF and VIP are the kernel's (IF is always set).
const USER_CONTROLLED_FLAGS: u64 = 0x0024_0DD5;

/// Hands a system call to the kernel.
pub fn system_call(frame: &mut UserFrame) {
    // SAFETY: the kernel defines this hook with exactly this signature (user_mode.rs).
    unsafe { kernel_system_call(frame) }
}

/// Hands a timer tick to the kernel.
pub fn timer_tick() {
    // SAFETY: the kernel defines this hook with exactly this signature (user_mode.rs).
    unsafe { kernel_timer_tick() }
}

/// Hands a user-mode exception to the kernel, which normally never returns.
pub fn fault(frame: &mut UserFrame, address: u64, cause: &'static str) {
    // SAFETY: the kernel defines this hook with exactly this signature (user_mode.rs).
    unsafe { kernel_user_fault(frame, Fault { address, cause }) }
}

/// Makes `frame` safe to resume in user mode. A non-canonical instruction or stack pointer
/// (which `iretq` would fault on in ring 0) is reported to the kernel as a user fault.
///
/// # Panics
/// If the kernel's fault hook returns and the frame is still not resumable.
pub fn prepare_return(frame: &mut UserFrame) {
    frame.cs = u64::from(gdt::USER_CODE);
    frame.ss = u64::from(gdt::USER_DATA);
    frame.rflags = (frame.rflags & USER_CONTROLLED_FLAGS) | USER_FLAGS;
    if !(is_canonical(frame.rip) && is_canonical(frame.rsp)) {
        let address = if is_canonical(frame.rip) {
            frame.rsp
        } else {
            frame.rip
        };
        fault(frame, address, "non-canonical return address");
        assert!(
            is_canonical(frame.rip) && is_canonical(frame.rsp),
            "user frame left non-canonical after the fault hook"
        );
    }
}

/// Whether `address` is canonical for 48-bit virtual addresses (bits 47..64 all equal).
fn is_canonical(address: u64) -> bool {
    let top = address >> 47;
    top == 0 || top == 0x1_FFFF
}

impl UserRegisters for TrapFrame {
    fn system_call_number(&self) -> usize {
        self.rax as usize
    }

    fn system_call_argument(&self, index: usize) -> usize {
        let value = match index {
            0 => self.rdi,
            1 => self.rsi,
            2 => self.rdx,
            3 => self.r10,
            4 => self.r8,
            5 => self.r9,
            _ => 0,
        };
        value as usize
    }

    fn set_system_call_result(&mut self, value: usize) {
        self.rax = value as u64;
    }

    fn instruction_pointer(&self) -> u64 {
        self.rip
    }

    fn stack_pointer(&self) -> u64 {
        self.rsp
    }
}

impl UserMode for X86_64 {
    type Context = Context;
    type UserFrame = UserFrame;

    fn initialize_context(
        context: &mut Context,
        stack_top: u64,
        entry: extern "C" fn(usize) -> !,
        argument: usize,
    ) {
        context::initialize(context, stack_top, entry, argument);
    }

    unsafe fn switch_context(from: *mut Context, to: *const Context) {
        // SAFETY: the caller upholds `context::switch`'s contract (the trait's `# Safety`).
        unsafe { context::switch(from, to) }
    }

    unsafe fn enter_user(entry: u64, user_stack: u64, argument: u64, kernel_stack_top: u64) -> ! {
        Self::set_kernel_stack(kernel_stack_top);
        // SAFETY: the caller guarantees the user mappings; the kernel stack is set above.
        unsafe { context::enter_user(entry, user_stack, argument) }
    }

    fn set_kernel_stack(top: u64) {
        // SAFETY: the kernel passes the top of the kernel stack of the thread it is about to
        // run (the trait's contract); the CPU reads it only on the next trap from user mode.
        unsafe { gdt::set_kernel_stack(top) };
        syscall::set_kernel_stack(top);
    }

    unsafe fn activate_user_root(root: u64) {
        // SAFETY: the caller guarantees `root` was prepared, so it maps the kernel's upper
        // half (code, stacks, data) exactly as the current root does.
        unsafe { cpu::load_root(root) };
    }

    fn prepare_user_root(
        user_root: u64,
        kernel_root: u64,
        read: &dyn Fn(u64, usize) -> u64,
        write: &mut dyn FnMut(u64, usize, u64),
    ) {
        for index in 256..512 {
            write(user_root, index, read(kernel_root, index));
        }
    }

    fn start_timer(hertz: u32, map_device: MapDevice) {
        timer::start(hertz, map_device);
    }

    fn monotonic_nanoseconds() -> u64 {
        timer::monotonic_nanoseconds()
    }

    fn counter_ticks() -> u64 {
        crate::clock::time_stamp()
    }

    fn enable_interrupts() {
        // The IDT handles every vector the APIC can deliver.
        interrupts::enable();
    }

    fn disable_interrupts() {
        // Masking interrupts only delays them. (The crate's `cli` has no `nomem`: it is also a
        // compiler barrier, so memory the handlers share is not cached across it.)
        interrupts::disable();
    }

    fn wait_for_interrupt() {
        // `sti` takes effect after the next instruction, so no interrupt slips in between it
        // and `hlt`; the handler runs during `hlt`, then `cli` masks again.
        // The crate's `sti; hlt` is `nomem`, so fence first: what the kernel stored before
        // waiting is in memory when the handler runs.
        compiler_fence(Ordering::SeqCst);
        interrupts::enable_and_hlt();
        interrupts::disable();
    }
}
