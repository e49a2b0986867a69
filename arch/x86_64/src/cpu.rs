//! CPU identification, the page-attribute table (IA32_PAT) and the translation root (CR3).

use crate::paging::PAT_VALUE;
use core::arch::asm;
use x86_64::instructions::tlb;
use x86_64::registers::control::{Cr0, Cr0Flags, Cr3, Cr3Flags, Cr4, Cr4Flags};
use x86_64::registers::model_specific::{Efer, EferFlags, Msr};
use x86_64::structures::paging::{PhysFrame, Size4KiB};
use x86_64::PhysAddr;

/// IA32_PAT, the page-attribute table.
const IA32_PAT: u32 = 0x277;
/// CPUID.01H:EDX.PAT: the CPU has a page-attribute table.
const CPUID_PAT: u32 = 1 << 16;
/// CPUID.01H:EDX.MCE: the CPU has the machine-check exception.
const CPUID_MACHINE_CHECK: u32 = 1 << 7;

/// Sets the control-register and EFER bits the kernel relies on, beyond the few the PVH
/// trampoline needed to reach long mode:
/// - CR0.NE: x87 errors raise #MF instead of going through the legacy FERR#/IGNNE# pins
///   (emulators ignore those; real chipsets honour them); CR0.MP with EM clear, so the FPU
///   and SSE run natively; CR0.WP, so the kernel cannot write read-only pages either.
/// - CR4.OSFXSR and OSXMMEXCPT, so user code may use SSE; CR4.MCE when CPUID offers it, so a
///   machine check raises #MC (reported on its own stack) instead of shutting the CPU down;
///   CR4.TSD clear, so user mode may read the TSC, as aarch64 lets it read CNTVCT_EL0.
/// - EFER.SCE for `syscall`, and NXE (already on) for no-execute pages.
///
/// # Safety
/// Call once, first thing on the boot CPU, with interrupts disabled.
pub unsafe fn configure() {
    let machine_check = core::arch::x86_64::__cpuid(1).edx & CPUID_MACHINE_CHECK != 0;
    // SAFETY: each bit is described above; none changes how memory the kernel already uses
    // is translated (PG, PE, PAE, LME stay as the trampoline set them).
    unsafe {
        Cr0::update(|flags| {
            flags.insert(
                Cr0Flags::NUMERIC_ERROR | Cr0Flags::MONITOR_COPROCESSOR | Cr0Flags::WRITE_PROTECT,
            );
            flags.remove(Cr0Flags::EMULATE_COPROCESSOR);
        });
        Cr4::update(|flags| {
            flags.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE);
            flags.set(Cr4Flags::MACHINE_CHECK_EXCEPTION, machine_check);
            flags.remove(Cr4Flags::TIMESTAMP_DISABLE);
        });
        Efer::update(|flags| {
            flags.insert(EferFlags::SYSTEM_CALL_EXTENSIONS | EferFlags::NO_EXECUTE_ENABLE);
        });
    }
}

/// Whether CPUID reports a page-attribute table.
pub fn has_pat() -> bool {
    // CPUID leaf 1 exists on every x86_64 CPU.
    let leaf = core::arch::x86_64::__cpuid(1);
    leaf.edx & CPUID_PAT != 0
}

/// Programs IA32_PAT with [`PAT_VALUE`] so every [`kernel_core::CacheType`] has an entry
/// (entry 4 becomes write-combining; entries 0–3 keep their power-on meaning, so mappings made
/// before this call keep theirs). Returns `false`, changing nothing, if the CPU has no PAT.
///
/// # Safety
/// Call on each CPU at boot, before any mapping selects PAT entries 4–7.
pub unsafe fn program_pat() -> bool {
    if !has_pat() {
        return false;
    }
    // SAFETY: the PAT MSR exists (checked above); no mapping selects the changed entries yet.
    unsafe { Msr::new(IA32_PAT).write(PAT_VALUE) };
    // The SDM (11.12.4) asks for caches and TLBs to be flushed after a change; no mapping uses
    // the changed entries yet, but do it anyway. `wbinvd` is hand-written because the `x86_64`
    // crate has no wrapper for it.
    // SAFETY: writing back and invalidating caches loses no data and touches no Rust memory.
    unsafe { asm!("wbinvd", options(nostack, preserves_flags)) };
    tlb::flush_all();
    true
}

/// The value IA32_PAT holds now.
pub fn pat() -> u64 {
    // SAFETY: only called after `program_pat` found the MSR present.
    unsafe { Msr::new(IA32_PAT).read() }
}

/// Makes the translation tables rooted at physical address `root` the active ones (CR3),
/// which also drops every non-global cached translation.
///
/// # Safety
/// `root` must be a page-aligned table that maps the running code, the current stack and
/// everything the kernel touches afterwards.
pub unsafe fn load_root(root: u64) {
    let frame = PhysFrame::<Size4KiB>::containing_address(PhysAddr::new(root));
    // SAFETY: guaranteed by the caller.
    unsafe { Cr3::write(frame, Cr3Flags::empty()) };
}
