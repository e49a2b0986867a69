//! The global descriptor table and the task-state segment, built with the `x86_64` crate.
//!
//! Selector layout is fixed by `syscall`/`sysret`: kernel code and data at 0x08/0x10, then
//! user data and user code at 0x18/0x20 (sysret loads SS = STAR[63:48] + 8 and
//! CS = STAR[63:48] + 16), then the 16-byte TSS descriptor at 0x28. The TSS holds the stack
//! traps from user mode arrive on (RSP0) and the interrupt-stack table, whose stacks
//! ([`crate::interrupt_stacks`]) NMI, machine check, debug and double fault always run on.

use crate::interrupt_stacks;
use core::ptr::{addr_of, addr_of_mut};
use x86_64::instructions::segmentation::{Segment, CS, DS, ES, SS};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;
use x86_64::{PrivilegeLevel, VirtAddr};

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

/// A selector constant as the crate's type.
pub const fn selector(value: u16) -> SegmentSelector {
    SegmentSelector::new(value >> 3, PrivilegeLevel::from_u16(value & 3))
}

use crate::syscall::MAX_CPUS;

static mut TSS_SEGMENT: [TaskStateSegment; MAX_CPUS] =
    [const { TaskStateSegment::new() }; MAX_CPUS];
static mut GDT: [GlobalDescriptorTable; MAX_CPUS] =
    [const { GlobalDescriptorTable::new() }; MAX_CPUS];

/// Loads the kernel's GDT and TSS and reloads every segment register.
///
/// # Panics
/// If the crate hands out selectors other than the layout above (a broken invariant of this
/// file, checked because `syscall`/`sysret` and the entry stubs depend on it).
///
/// # Safety
/// Call once per CPU (`index`: its CPU index, each CPU its own tables), early, with
/// interrupts disabled.
pub unsafe fn init(index: usize) {
    // SAFETY: single-threaded early boot (see `# Safety`): nothing else touches these statics,
    // and both live for the rest of the run at fixed addresses, as the CPU requires.
    unsafe {
        let tss = &mut (*addr_of_mut!(TSS_SEGMENT))[index];
        for (slot, stack) in interrupt_stacks::of_cpu(index).iter().enumerate() {
            tss.interrupt_stack_table[slot] = VirtAddr::new(stack.top);
        }
        let gdt = &mut (*addr_of_mut!(GDT))[index];
        let selectors = [
            gdt.append(Descriptor::kernel_code_segment()),
            gdt.append(Descriptor::kernel_data_segment()),
            gdt.append(Descriptor::user_data_segment()),
            gdt.append(Descriptor::user_code_segment()),
            gdt.append(Descriptor::tss_segment_unchecked(addr_of!(
                (*addr_of!(TSS_SEGMENT))[index]
            ))),
        ];
        assert!(
            selectors.map(|selector| selector.0)
                == [KERNEL_CODE, KERNEL_DATA, USER_DATA, USER_CODE, TSS],
            "GDT selectors differ from the layout syscall/sysret need"
        );
        gdt.load_unsafe();
        CS::set_reg(selector(KERNEL_CODE));
        DS::set_reg(selector(KERNEL_DATA));
        ES::set_reg(selector(KERNEL_DATA));
        SS::set_reg(selector(KERNEL_DATA));
        load_tss(selector(TSS));
    }
}

/// Sets the stack the CPU switches to when a trap or interrupt arrives from user mode.
///
/// # Safety
/// `top` must be the top of a mapped, otherwise unused kernel stack.
pub unsafe fn set_kernel_stack(top: u64) {
    // SAFETY: the TSS is only read by the CPU on privilege changes; the caller guarantees
    // `top` is a valid stack. Written through a raw pointer: no reference to the TSS outlives
    // `init`.
    unsafe {
        (*addr_of_mut!(TSS_SEGMENT))[crate::syscall::cpu_index()].privilege_stack_table[0] =
            VirtAddr::new(top)
    };
}
