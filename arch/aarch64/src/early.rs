//! Register and descriptor values the boot code programs before any Rust runs.

/// SCTLR_EL1 RES1 bits for ARMv8.0 (11, 20, 22, 23, 28, 29).
const SCTLR_RES1: u64 = (1 << 11) | (1 << 20) | (1 << 22) | (1 << 23) | (1 << 28) | (1 << 29);
/// SCTLR_EL1 with the MMU and caches off (used while dropping from EL2).
pub const SCTLR_MMU_OFF: u64 = SCTLR_RES1;
/// SCTLR_EL1 with M (MMU), C (data cache), SA (stack alignment check), I (instruction
/// cache); alignment checking and WXN off.
pub const SCTLR_MMU_ON: u64 = SCTLR_RES1 | 1 | (1 << 2) | (1 << 3) | (1 << 12);

/// MAIR_EL1: index 0 Normal write-back, 1 Normal non-cacheable (write-combining),
/// 2 Device-nGnRE, 3 Device-nGnRnE.
pub const MAIR: u64 = 0xff | (0x44 << 8) | (0x04 << 16);

/// TCR_EL1 without IPS (filled from ID_AA64MMFR0_EL1.PARange at boot): 48-bit VA on both
/// halves (T0SZ = T1SZ = 16), 4 KiB granules, inner-shareable write-back table walks.
pub const TCR_WITHOUT_IPS: u64 = 16
    | (1 << 8)
    | (1 << 10)
    | (3 << 12)
    | (16 << 16)
    | (1 << 24)
    | (1 << 26)
    | (3 << 28)
    | (2 << 30);

/// Level-1 block: valid, AttrIndx 0 (write-back), inner shareable, AF, UXN; kernel
/// executable (the early identity map must run the code that turns the MMU on).
pub const EARLY_NORMAL_BLOCK: u64 = 1 | (3 << 8) | (1 << 10) | (1 << 54);
/// Level-1 block: valid, AttrIndx 2 (Device-nGnRE), AF, PXN, UXN.
pub const EARLY_DEVICE_BLOCK: u64 = 1 | (2 << 2) | (1 << 10) | (1 << 53) | (1 << 54);
