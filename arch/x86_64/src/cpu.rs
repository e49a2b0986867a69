//! CPU identification, model-specific registers and cache-attribute setup.

use crate::paging::PAT_VALUE;
use core::arch::asm;

/// IA32_PAT, the page-attribute table.
pub const IA32_PAT: u32 = 0x277;
/// CPUID.01H:EDX.PAT: the CPU has a page-attribute table.
const CPUID_PAT: u32 = 1 << 16;

/// Reads a model-specific register.
///
/// # Safety
/// `register` must exist on this CPU (reading an absent MSR raises #GP).
pub unsafe fn read_msr(register: u32) -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: the caller guarantees the MSR exists; `rdmsr` touches no memory.
    unsafe {
        asm!("rdmsr", in("ecx") register, out("eax") low, out("edx") high, options(nomem, nostack, preserves_flags))
    };
    (u64::from(high) << 32) | u64::from(low)
}

/// Writes a model-specific register.
///
/// # Safety
/// `register` must exist, and `value` must keep the machine in a state the kernel expects.
pub unsafe fn write_msr(register: u32, value: u64) {
    // SAFETY: guaranteed by the caller; `wrmsr` touches no memory.
    unsafe {
        asm!("wrmsr", in("ecx") register, in("eax") value as u32, in("edx") (value >> 32) as u32, options(nomem, nostack, preserves_flags))
    };
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
    // SAFETY: the PAT MSR exists (checked above). The SDM (11.12.4) asks for caches and TLBs
    // to be flushed after a change; no mapping uses the changed entries yet, but do it anyway.
    unsafe {
        write_msr(IA32_PAT, PAT_VALUE);
        asm!("wbinvd", "mov {scratch}, cr3", "mov cr3, {scratch}", scratch = out(reg) _, options(nostack));
    }
    true
}

/// The value IA32_PAT holds now.
pub fn pat() -> u64 {
    // SAFETY: only called after `program_pat` found the MSR present.
    unsafe { read_msr(IA32_PAT) }
}
