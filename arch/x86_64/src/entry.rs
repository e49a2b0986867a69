//! The first Rust code: from `pvh_entry64` to the kernel's `kernel_main`.

use crate::{cpu, gdt, pvh, serial, smp, syscall, trap};
use core::fmt::Write;
use kernel_core::boot::{BootInfo, PhysicalRange};
use kernel_core::ExitStatus;

extern "Rust" {
    /// The arch-neutral kernel's entry point.
    fn kernel_main(info: &BootInfo) -> !;
}

extern "C" {
    static __kernel_physical_start: u8;
    static __kernel_physical_end: u8;
}

/// Called by `pvh_entry64` on the boot stack with the `hvm_start_info` physical address.
pub extern "C" fn x86_64_entry(start_info: u32) -> ! {
    serial::init();
    // SAFETY: first thing on the boot CPU, interrupts off, nothing else running.
    unsafe {
        cpu::configure();
        gdt::init(0);
        trap::init();
        syscall::init(0);
        smp::install_trampoline();
    }
    // SAFETY: at boot, before any mapping selects PAT entries 4-7.
    if !unsafe { cpu::program_pat() } {
        let _ = writeln!(
            crate::Console,
            "FATAL: this CPU has no page-attribute table (CPUID.01H:EDX.PAT)"
        );
        crate::power_off(ExitStatus::Failure);
    }
    // The linker script defines both symbols; only their addresses are used.
    let start = core::ptr::addr_of!(__kernel_physical_start) as u64;
    let end = core::ptr::addr_of!(__kernel_physical_end) as u64;
    let image = PhysicalRange {
        base: start,
        size: end - start,
    };
    let mut info = BootInfo::new(crate::NAME, image);
    // SAFETY: `start_info` came from the PVH loader in %ebx, and the early page tables
    // identity-map the first 4 GiB where QEMU places it and everything it points to.
    if let Err(error) = unsafe { pvh::read(u64::from(start_info), &mut info) } {
        let _ = writeln!(crate::Console, "FATAL: unusable PVH start info: {error:?}");
        crate::power_off(ExitStatus::Failure);
    }
    // SAFETY: `kernel_main` is defined by the kernel crate with this exact signature.
    unsafe { kernel_main(&info) }
}
