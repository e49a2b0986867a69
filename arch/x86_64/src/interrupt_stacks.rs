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

use crate::syscall::MAX_CPUS;
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
// One set per CPU (index = CPU index).
static mut DOUBLE_FAULT_STACK: [GuardedStack; MAX_CPUS] = [const { GuardedStack::new() }; MAX_CPUS];
static mut NMI_STACK: [GuardedStack; MAX_CPUS] = [const { GuardedStack::new() }; MAX_CPUS];
static mut MACHINE_CHECK_STACK: [GuardedStack; MAX_CPUS] =
    [const { GuardedStack::new() }; MAX_CPUS];
static mut DEBUG_STACK: [GuardedStack; MAX_CPUS] = [const { GuardedStack::new() }; MAX_CPUS];

/// IST index (0-based, as [`x86_64::structures::idt::EntryOptions::set_stack_index`] takes it)
/// of the double-fault stack.
pub const DOUBLE_FAULT: u16 = 0;
/// IST index of the non-maskable-interrupt stack.
pub const NON_MASKABLE_INTERRUPT: u16 = 1;
/// IST index of the machine-check stack.
pub const MACHINE_CHECK: u16 = 2;
/// IST index of the debug-exception stack.
pub const DEBUG: u16 = 3;

static STACKS: Once<[InterruptStack; 4 * MAX_CPUS]> = Once::new();

/// The stacks' names, CPU by CPU (CPU 0's carry the plain names).
const NAMES: [[&str; 4]; MAX_CPUS] = [
    [
        "double-fault",
        "non-maskable-interrupt",
        "machine-check",
        "debug",
    ],
    [
        "cpu1-double-fault",
        "cpu1-non-maskable-interrupt",
        "cpu1-machine-check",
        "cpu1-debug",
    ],
    [
        "cpu2-double-fault",
        "cpu2-non-maskable-interrupt",
        "cpu2-machine-check",
        "cpu2-debug",
    ],
    [
        "cpu3-double-fault",
        "cpu3-non-maskable-interrupt",
        "cpu3-machine-check",
        "cpu3-debug",
    ],
    [
        "cpu4-double-fault",
        "cpu4-non-maskable-interrupt",
        "cpu4-machine-check",
        "cpu4-debug",
    ],
    [
        "cpu5-double-fault",
        "cpu5-non-maskable-interrupt",
        "cpu5-machine-check",
        "cpu5-debug",
    ],
    [
        "cpu6-double-fault",
        "cpu6-non-maskable-interrupt",
        "cpu6-machine-check",
        "cpu6-debug",
    ],
    [
        "cpu7-double-fault",
        "cpu7-non-maskable-interrupt",
        "cpu7-machine-check",
        "cpu7-debug",
    ],
];

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

/// Every CPU's four stacks: CPU `c`'s in IST order at `4 * c ..4 * c + 4`.
pub fn all() -> &'static [InterruptStack] {
    STACKS.call_once(|| {
        core::array::from_fn(|slot| {
            let (cpu, kind) = (slot / 4, slot % 4);
            // SAFETY: only addresses are taken, no reference to the CPU-written memory.
            let stack = unsafe {
                match kind {
                    0 => addr_of!(DOUBLE_FAULT_STACK[cpu]),
                    1 => addr_of!(NMI_STACK[cpu]),
                    2 => addr_of!(MACHINE_CHECK_STACK[cpu]),
                    _ => addr_of!(DEBUG_STACK[cpu]),
                }
            };
            describe(NAMES[cpu][kind], stack)
        })
    })
}

/// CPU `index`'s four stacks, in IST order (entry `i` is IST index `i`).
pub fn of_cpu(index: usize) -> &'static [InterruptStack] {
    &all()[4 * index..4 * index + 4]
}
