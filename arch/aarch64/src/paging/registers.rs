//! TCR_EL1 and SCTLR_EL1: the translation control and system control values boot code loads.

/// TCR_EL1.T0SZ and T1SZ: 64 - 16 = 48-bit virtual addresses in each half.
const REGION_SIZE_OFFSET: u64 = 16;
/// IRGN and ORGN = 0b01: table walks are inner and outer write-back, read- and write-allocate.
const WALK_WRITE_BACK: u64 = 0b01;
/// SH = 0b11: table walks are inner shareable.
const WALK_INNER_SHAREABLE: u64 = 0b11;
/// TG0 = 0b00: 4 KiB granule for TTBR0.
const GRANULE_4K_LOW: u64 = 0b00;
/// TG1 = 0b10: 4 KiB granule for TTBR1 (TG1 encodes sizes differently from TG0).
const GRANULE_4K_HIGH: u64 = 0b10;
/// The largest PARange encoding the descriptors support: 0b0101, 48 bits.
const PHYSICAL_ADDRESS_RANGE_48_BITS: u64 = 0b0101;

/// The TCR_EL1 value for a CPU whose ID_AA64MMFR0_EL1.PARange field (bits 3:0) is
/// `physical_address_range_field`.
///
/// | bits  | field | value                                          |
/// | ----- | ----- | ---------------------------------------------- |
/// | 5:0   | T0SZ  | 16: 48-bit user addresses through TTBR0        |
/// | 7     | EPD0  | 0: TTBR0 walks allowed                         |
/// | 9:8   | IRGN0 | 0b01: inner write-back write-allocate walks    |
/// | 11:10 | ORGN0 | 0b01: outer write-back write-allocate walks    |
/// | 13:12 | SH0   | 0b11: inner shareable walks                    |
/// | 15:14 | TG0   | 0b00: 4 KiB granule                            |
/// | 21:16 | T1SZ  | 16: 48-bit kernel addresses through TTBR1      |
/// | 22    | A1    | 0: TTBR0 holds the ASID                        |
/// | 23    | EPD1  | 0: TTBR1 walks allowed                         |
/// | 25:24 | IRGN1 | 0b01                                           |
/// | 27:26 | ORGN1 | 0b01                                           |
/// | 29:28 | SH1   | 0b11                                           |
/// | 31:30 | TG1   | 0b10: 4 KiB granule                            |
/// | 34:32 | IPS   | PARange, capped at 0b101 (48 bits)             |
/// | 36    | AS    | 0: 8-bit ASIDs, which every CPU has            |
/// | 38:37 | TBI   | 0: the top byte is part of the address         |
///
/// The field is masked to four bits, and values above 0b101 (52 bits, or reserved) are
/// capped at 48 bits because the descriptors carry no more.
pub const fn tcr_value(physical_address_range_field: u64) -> u64 {
    let mut range = physical_address_range_field & 0xF;
    if range > PHYSICAL_ADDRESS_RANGE_48_BITS {
        range = PHYSICAL_ADDRESS_RANGE_48_BITS;
    }
    REGION_SIZE_OFFSET
        | (WALK_WRITE_BACK << 8)
        | (WALK_WRITE_BACK << 10)
        | (WALK_INNER_SHAREABLE << 12)
        | (GRANULE_4K_LOW << 14)
        | (REGION_SIZE_OFFSET << 16)
        | (WALK_WRITE_BACK << 24)
        | (WALK_WRITE_BACK << 26)
        | (WALK_INNER_SHAREABLE << 28)
        | (GRANULE_4K_HIGH << 30)
        | (range << 32)
}

/// How many physical address bits [`tcr_value`] programs for a PARange field (32 to 48).
pub const fn physical_address_bits(physical_address_range_field: u64) -> u32 {
    match (tcr_value(physical_address_range_field) >> 32) & 0b111 {
        0 => 32,
        1 => 36,
        2 => 40,
        3 => 42,
        4 => 44,
        _ => 48,
    }
}

/// SCTLR_EL1.M, bit 0: the MMU translates EL1 and EL0 addresses.
const MMU_ENABLE: u64 = 1 << 0;
/// SCTLR_EL1.C, bit 2: data accesses may be cached as their attributes say.
const DATA_CACHE_ENABLE: u64 = 1 << 2;
/// SCTLR_EL1.SA, bit 3: a misaligned SP at EL1 faults.
const STACK_ALIGNMENT_CHECK: u64 = 1 << 3;
/// SCTLR_EL1.I, bit 12: instruction fetches may be cached.
const INSTRUCTION_CACHE_ENABLE: u64 = 1 << 12;
/// Bits that are RES1 on ARMv8.0 (EOS 11, TSCXT 20, EIS 22, SPAN 23, nTLSMD 28, LSMAOE 29).
/// Where a later feature gives them a name, 1 keeps the ARMv8.0 behaviour.
pub const SCTLR_RESERVED_ONES: u64 =
    (1 << 11) | (1 << 20) | (1 << 22) | (1 << 23) | (1 << 28) | (1 << 29);

/// The SCTLR_EL1 value the kernel loads to turn the MMU and caches on.
///
/// Set: M (0) MMU on, C (2) data cache, SA (3) EL1 stack alignment check, I (12) instruction
/// cache, and the ARMv8.0 RES1 bits 11, 20, 22, 23, 28, 29. Everything else is zero, notably:
/// A (1) no alignment faults for ordinary loads, SA0 (4) no EL0 stack check, WXN (19) off so
/// writable does not imply execute-never, E0E (24) and EE (25) little-endian at EL0 and EL1,
/// and UCT, DZE, UCI, nTWI, nTWE (15, 14, 26, 16, 18) zero so EL0 cache maintenance, cache
/// type reads, DC ZVA, WFI and WFE trap to EL1.
pub const SCTLR_VALUE: u64 = MMU_ENABLE
    | DATA_CACHE_ENABLE
    | STACK_ALIGNMENT_CHECK
    | INSTRUCTION_CACHE_ENABLE
    | SCTLR_RESERVED_ONES;

const _: () = assert!(SCTLR_VALUE == 0x30D0_180D);
const _: () = assert!(tcr_value(PHYSICAL_ADDRESS_RANGE_48_BITS) == 0x5_B510_3510);
