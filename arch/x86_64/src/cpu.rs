//! CPU identification, the page-attribute table (IA32_PAT) and the translation root (CR3).

use crate::paging::PAT_VALUE;
use core::arch::asm;
use x86_64::instructions::tlb;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::registers::model_specific::Msr;
use x86_64::structures::paging::{PhysFrame, Size4KiB};
use x86_64::PhysAddr;

/// IA32_PAT, the page-attribute table.
const IA32_PAT: u32 = 0x277;
/// CPUID.01H:EDX.PAT: the CPU has a page-attribute table.
const CPUID_PAT: u32 = 1 << 16;

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
