//! Register and descriptor values the boot code programs before any Rust runs, all taken
//! from the pure, host-tested [`crate::paging`] definitions.

use crate::paging::{self, Level};
use kernel_core::{CacheType, PageFlags};

/// SCTLR_EL1 with the MMU and caches off (used while dropping from EL2).
pub const SCTLR_MMU_OFF: u64 = paging::SCTLR_RESERVED_ONES;
/// SCTLR_EL1 with the MMU and caches on.
pub const SCTLR_MMU_ON: u64 = paging::SCTLR_VALUE;
/// MAIR_EL1 with the four memory types.
pub const MAIR: u64 = paging::MAIR_VALUE;
/// TCR_EL1 without IPS, which the boot code fills from ID_AA64MMFR0_EL1.PARange.
pub const TCR_WITHOUT_IPS: u64 = paging::tcr_value(0);

/// Level-1 block of normal write-back RAM, kernel read-write-execute: the early identity map
/// must run the code that turns the MMU on. The kernel's own tables drop execute from data.
pub const EARLY_NORMAL_BLOCK: u64 = block(PageFlags::kernel().writable().executable());
/// Level-1 block of device memory (Device-nGnRE), kernel read-write, never executable.
pub const EARLY_DEVICE_BLOCK: u64 = block(PageFlags::kernel().writable().cache(CacheType::Device));

const fn block(flags: PageFlags) -> u64 {
    match paging::encode(0, flags, Level::L1Block1G) {
        Ok(descriptor) => descriptor,
        Err(_) => panic!("early block descriptor does not encode"),
    }
}
