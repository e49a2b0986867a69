//! The SMMUv3 register file: offsets, control bits, and what the ID registers say.

/// ID register 0: features (stage 1/2, table levels, formats).
pub const IDR0: usize = 0x00;
/// ID register 1: queue and stream id sizes.
pub const IDR1: usize = 0x04;
/// ID register 5: output address size and granules.
pub const IDR5: usize = 0x14;
/// Control register 0: enables.
pub const CR0: usize = 0x20;
/// Acknowledges CR0 once the SMMU has acted on it.
pub const CR0_ACKNOWLEDGE: usize = 0x24;
/// Control register 1: cacheability and shareability of table and queue accesses.
pub const CR1: usize = 0x28;
/// Control register 2.
pub const CR2: usize = 0x2c;
/// Global bypass attribute: what happens to traffic while the SMMU is disabled.
pub const GBPA: usize = 0x44;
/// Interrupt enables.
pub const IRQ_CONTROL: usize = 0x50;
/// Global error flags (toggle against GERRORN).
pub const GERROR: usize = 0x60;
/// Global error acknowledgements.
pub const GERRORN: usize = 0x64;
/// Stream table base address.
pub const STRTAB_BASE: usize = 0x80;
/// Stream table format and size.
pub const STRTAB_BASE_CFG: usize = 0x88;
/// Command queue base address and size.
pub const CMDQ_BASE: usize = 0x90;
/// Command queue producer index (written by software).
pub const CMDQ_PROD: usize = 0x98;
/// Command queue consumer index (written by the SMMU; bits 30:24 hold an error code).
pub const CMDQ_CONS: usize = 0x9c;
/// Event queue base address and size.
pub const EVENTQ_BASE: usize = 0xa0;
/// Event queue producer index: in register page 1 (offset 64 KiB).
pub const EVENTQ_PROD: usize = 0x1_00a8;
/// Event queue consumer index: in register page 1.
pub const EVENTQ_CONS: usize = 0x1_00ac;
/// The register file spans two 64 KiB pages.
pub const REGISTER_BYTES: u64 = 0x2_0000;

/// CR0.SMMUEN: translate (or abort) according to the stream table.
pub const CR0_SMMU_ENABLE: u32 = 1 << 0;
/// CR0.EVENTQEN: write events to the event queue.
pub const CR0_EVENT_QUEUE_ENABLE: u32 = 1 << 2;
/// CR0.CMDQEN: process the command queue.
pub const CR0_COMMAND_QUEUE_ENABLE: u32 = 1 << 3;
/// GBPA.UPDATE: set with a new value; the SMMU clears it once applied.
pub const GBPA_UPDATE: u32 = 1 << 31;
/// GBPA.ABORT: abort incoming traffic while the SMMU is disabled.
pub const GBPA_ABORT: u32 = 1 << 20;
/// CR1 value: tables and queues inner-shareable, write-back cacheable (like the CPU's RAM).
pub const CR1_WRITE_BACK_INNER_SHAREABLE: u32 =
    (3 << 10) | (1 << 8) | (1 << 6) | (3 << 4) | (1 << 2) | 1;
/// Queue base: read/write-allocate hint (bit 62).
pub const QUEUE_ALLOCATE_HINT: u64 = 1 << 62;
/// Bits 30:24 of CMDQ_CONS: the error code of a stopped command queue.
pub const CMDQ_CONS_ERROR_SHIFT: u32 = 24;

/// What IDR0, IDR1 and IDR5 say this SMMU can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    /// Stage-1 translation is implemented.
    pub stage1: bool,
    /// Stage-2 translation is implemented.
    pub stage2: bool,
    /// A two-level stream table is implemented (a linear one always is).
    pub two_level_stream_table: bool,
    /// The AArch64 translation table format is implemented.
    pub aarch64_tables: bool,
    /// The 4 KiB granule is implemented.
    pub granule_4k: bool,
    /// Stream id width in bits.
    pub stream_id_bits: u32,
    /// log2 of the most command queue entries.
    pub command_queue_log2: u32,
    /// log2 of the most event queue entries.
    pub event_queue_log2: u32,
    /// ASIDs are 16 bits wide (8 otherwise).
    pub asid16: bool,
    /// Output address size in bits.
    pub output_address_bits: u32,
}

impl Features {
    /// Decodes the three ID registers.
    pub const fn decode(idr0: u32, idr1: u32, idr5: u32) -> Self {
        Features {
            stage1: idr0 & (1 << 1) != 0,
            stage2: idr0 & 1 != 0,
            two_level_stream_table: (idr0 >> 27) & 3 == 1,
            aarch64_tables: (idr0 >> 2) & 2 != 0,
            granule_4k: idr5 & (1 << 4) != 0,
            stream_id_bits: idr1 & 0x3f,
            command_queue_log2: (idr1 >> 21) & 0x1f,
            event_queue_log2: (idr1 >> 16) & 0x1f,
            asid16: idr0 & (1 << 12) != 0,
            output_address_bits: match idr5 & 7 {
                0 => 32,
                1 => 36,
                2 => 40,
                3 => 42,
                4 => 44,
                5 => 48,
                _ => 52,
            },
        }
    }

    /// Whether this SMMU can confine devices the way coherent does (stage 1, AArch64
    /// tables, 4 KiB granule).
    pub const fn usable(&self) -> bool {
        self.stage1 && self.aarch64_tables && self.granule_4k
    }
}

/// The STRTAB_BASE_CFG value for a linear table of `2^log2_entries` STEs.
pub const fn linear_stream_table_config(log2_entries: u32) -> u32 {
    log2_entries & 0x3f
}

/// A queue base register value: address (32-byte aligned) and `2^log2_entries` entries.
pub const fn queue_base(physical: u64, log2_entries: u32) -> u64 {
    QUEUE_ALLOCATE_HINT | (physical & 0x0000_ffff_ffff_ffe0) | (log2_entries as u64 & 0x1f)
}

/// The stream table base register value.
pub const fn stream_table_base(physical: u64) -> u64 {
    QUEUE_ALLOCATE_HINT | (physical & 0x0000_ffff_ffff_ffc0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_features_decode() {
        // QEMU 7.2's virt SMMUv3: S1P, TTF=AArch64, COHACC, ASID16, two-level tables;
        // SIDSIZE 16, queues 2^19/2^19 max... as the model reports them.
        let idr0 = (1 << 27) | (1 << 12) | (2 << 2) | (1 << 1) | (1 << 4);
        let idr1 = (19 << 21) | (19 << 16) | 16;
        let idr5 = (1 << 4) | 5;
        let features = Features::decode(idr0, idr1, idr5);
        assert!(features.stage1 && !features.stage2 && features.usable());
        assert!(features.two_level_stream_table && features.asid16);
        assert_eq!(features.stream_id_bits, 16);
        assert_eq!(features.command_queue_log2, 19);
        assert_eq!(features.output_address_bits, 48);
        assert!(!Features::decode(idr0 & !(1 << 1), idr1, idr5).usable());
    }

    #[test]
    fn base_registers_keep_address_and_size() {
        assert_eq!(queue_base(0x4000_1000, 8), (1 << 62) | 0x4000_1000 | 8);
        assert_eq!(stream_table_base(0x4000_2000), (1 << 62) | 0x4000_2000);
        assert_eq!(linear_stream_table_config(8), 8);
    }
}
