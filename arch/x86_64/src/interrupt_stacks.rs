//! The interrupt-stack table's stacks: where NMI, machine check, debug and double fault run.
//!
//! These four exceptions must not trust the stack they interrupt. A double fault usually
//! means the kernel stack overflowed; and `syscall` enters the kernel still on the user's
//! stack for a few instructions (see [`crate::syscall`]), so an NMI, machine check or debug
//! exception there would otherwise be delivered onto memory user mode controls. Each gets its
//! own stack through the TSS's interrupt-stack table (IST), so the CPU switches to it
//! unconditionally, and each stack has a page below it that the kernel's tables leave
//! unmapped (the kernel learns the guard addresses from
//! [`kernel_core::Arch::interrupt_stacks`]), so overflowing one faults instead of silently
//! corrupting its neighbour. The handlers only report and stop, so one stack each is enough:
//! nothing nests on them.

use core::ptr::addr_of;
use kernel_core::InterruptStack;
use spin::Once;

/// Usable bytes in each interrupt stack.
const STACK_SIZE: usize = 16 * 1024;
/// The guard page's size.
const GUARD_SIZE: usize = 4096;

/// One stack with its guard page below it (`guard` first, so it is the lower page).
#[repr(C, align(4096))]
struct GuardedStack {
    /// Never mapped once the kernel's tables are active.
    _guard: [u8; GUARD_SIZE],
    /// The stack itself; it grows down from the end.
    _stack: [u8; STACK_SIZE],
}

impl GuardedStack {
    const fn new() -> Self {
        Self {
            _guard: [0; GUARD_SIZE],
            _stack: [0; STACK_SIZE],
        }
    }
}

// `static mut`, not `static`: the CPU writes these, so they must land in `.bss`, not in
// read-only `.rodata`. Rust code never reads or writes them, it only takes their addresses.
static mut DOUBLE_FAULT_STACK: GuardedStack = GuardedStack::new();
static mut NMI_STACK: GuardedStack = GuardedStack::new();
static mut MACHINE_CHECK_STACK: GuardedStack = GuardedStack::new();
static mut DEBUG_STACK: GuardedStack = GuardedStack::new();

/// IST index (0-based, as [`x86_64::structures::idt::EntryOptions::set_stack_index`] takes it)
/// of the double-fault stack.
pub const DOUBLE_FAULT: u16 = 0;
/// IST index of the non-maskable-interrupt stack.
pub const NON_MASKABLE_INTERRUPT: u16 = 1;
/// IST index of the machine-check stack.
pub const MACHINE_CHECK: u16 = 2;
/// IST index of the debug-exception stack.
pub const DEBUG: u16 = 3;

static STACKS: Once<[InterruptStack; 4]> = Once::new();

fn describe(name: &'static str, stack: *const GuardedStack) -> InterruptStack {
    let guard = stack as u64;
    let bottom = guard + GUARD_SIZE as u64;
    InterruptStack {
        name,
        bottom,
        top: bottom + STACK_SIZE as u64,
        guard,
    }
}

/// The four stacks, in IST order (entry `i` is IST index `i`).
pub fn all() -> &'static [InterruptStack] {
    STACKS.call_once(|| {
        [
            describe("double-fault", addr_of!(DOUBLE_FAULT_STACK)),
            describe("non-maskable-interrupt", addr_of!(NMI_STACK)),
            describe("machine-check", addr_of!(MACHINE_CHECK_STACK)),
            describe("debug", addr_of!(DEBUG_STACK)),
        ]
    })
}
