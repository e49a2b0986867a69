//! The global descriptor table and the task-state segment.
//!
//! Selector layout is fixed by `syscall`/`sysret`: kernel code and data at 0x08/0x10, then
//! user data and user code at 0x18/0x20 (sysret loads SS = STAR[63:48] + 8 and
//! CS = STAR[63:48] + 16), then the 16-byte TSS descriptor at 0x28. The TSS gives the
//! double-fault handler its own stack so a kernel stack overflow is reported, not a triple
//! fault.

use core::arch::asm;
use core::mem::size_of;
use core::ptr::addr_of;

/// Kernel code selector.
pub const KERNEL_CODE: u16 = 0x08;
/// Kernel data selector.
pub const KERNEL_DATA: u16 = 0x10;
/// User data selector (RPL 3).
pub const USER_DATA: u16 = 0x18 | 3;
/// User code selector (RPL 3).
pub const USER_CODE: u16 = 0x20 | 3;
/// TSS selector.
pub const TSS: u16 = 0x28;

/// Interrupt-stack-table slot used by the double-fault handler (1-based, as in the IDT).
pub const DOUBLE_FAULT_IST: u8 = 1;
const DOUBLE_FAULT_STACK_SIZE: usize = 16 * 1024;

/// The 64-bit task-state segment.
#[repr(C, packed(4))]
pub struct TaskStateSegment {
    reserved0: u32,
    /// Stacks loaded on a privilege change to ring 0 (RSP0 is the kernel stack for traps
    /// from user mode).
    pub privilege_stacks: [u64; 3],
    reserved1: u64,
    /// Interrupt stack table.
    pub interrupt_stacks: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    io_map_base: u16,
}

#[repr(C, align(16))]
struct Stack([u8; DOUBLE_FAULT_STACK_SIZE]);

static mut DOUBLE_FAULT_STACK: Stack = Stack([0; DOUBLE_FAULT_STACK_SIZE]);

static mut TSS_SEGMENT: TaskStateSegment = TaskStateSegment {
    reserved0: 0,
    privilege_stacks: [0; 3],
    reserved1: 0,
    interrupt_stacks: [0; 7],
    reserved2: 0,
    reserved3: 0,
    io_map_base: size_of::<TaskStateSegment>() as u16,
};

static mut GDT: [u64; 7] = [
    0,
    0x00af_9a00_0000_ffff, // kernel code: present, ring 0, executable, long mode
    0x00cf_9200_0000_ffff, // kernel data: present, ring 0, writable
    0x00cf_f200_0000_ffff, // user data: present, ring 3, writable
    0x00af_fa00_0000_ffff, // user code: present, ring 3, executable, long mode
    0,                     // TSS low half, filled in by `init`
    0,                     // TSS high half
];

#[repr(C, packed)]
struct DescriptorTablePointer {
    limit: u16,
    base: u64,
}

/// Loads the kernel's GDT and TSS and reloads every segment register.
///
/// # Safety
/// Call once, early, on the boot CPU, with interrupts disabled.
pub unsafe fn init() {
    // SAFETY: single-threaded early boot (see `# Safety`): nothing else touches these statics.
    unsafe {
        let stack_top = addr_of!(DOUBLE_FAULT_STACK) as u64 + DOUBLE_FAULT_STACK_SIZE as u64;
        TSS_SEGMENT.interrupt_stacks[usize::from(DOUBLE_FAULT_IST - 1)] = stack_top;
        let (low, high) = tss_descriptor(addr_of!(TSS_SEGMENT) as u64);
        GDT[5] = low;
        GDT[6] = high;
        let pointer = DescriptorTablePointer {
            limit: (size_of::<[u64; 7]>() - 1) as u16,
            base: addr_of!(GDT) as u64,
        };
        asm!(
            "lgdt [{pointer}]",
            "push {code}",
            "lea {scratch}, [rip + 2f]",
            "push {scratch}",
            "retfq",
            "2:",
            "mov ds, {data:x}",
            "mov es, {data:x}",
            "mov ss, {data:x}",
            "ltr {tss:x}",
            pointer = in(reg) &pointer,
            code = const KERNEL_CODE as u64,
            scratch = out(reg) _,
            data = in(reg) KERNEL_DATA as u64,
            tss = in(reg) TSS as u64,
        );
    }
}

/// Sets the stack the CPU switches to when a trap or interrupt arrives from user mode.
///
/// # Safety
/// `top` must be the top of a mapped, otherwise unused kernel stack.
pub unsafe fn set_kernel_stack(top: u64) {
    // SAFETY: the TSS is only read by the CPU on privilege changes; the caller guarantees
    // `top` is a valid stack.
    unsafe { TSS_SEGMENT.privilege_stacks[0] = top };
}

/// Encodes an available 64-bit TSS descriptor (type 0x9, present) for `base`.
fn tss_descriptor(base: u64) -> (u64, u64) {
    let limit = (size_of::<TaskStateSegment>() - 1) as u64;
    let low = (limit & 0xffff)
        | ((base & 0xff_ffff) << 16)
        | (0x89 << 40)
        | (((limit >> 16) & 0xf) << 48)
        | (((base >> 24) & 0xff) << 56);
    (low, base >> 32)
}
