//! Context descriptors: one device domain's stage-1 translation regime.

/// A CD is 64 bytes: eight little-endian 64-bit words.
pub const CONTEXT_DESCRIPTOR_BYTES: usize = 64;

/// The memory attributes (MAIR) every domain uses; [`Stage1Format`](super::Stage1Format)'s
/// AttrIndx selects one: 0 Normal write-back, 1 Normal non-cacheable (what the CPU calls
/// write-combining), 2 Device-nGnRE, 3 Device-nGnRnE — the CPU's own order, so a buffer the
/// CPU maps write-combining reaches the device as the same memory type.
pub const MEMORY_ATTRIBUTES: u64 = 0x00_04_44_ff;

/// T0SZ = 16: a 48-bit IOVA space walked from level 0 with the 4 KiB granule.
const T0SZ_48_BITS: u64 = 16;
/// IR0 = OR0 = write-back read/write-allocate, SH0 = inner shareable: tables are walked the
/// way the CPU wrote them.
const TABLE_WALK_ATTRIBUTES: u64 = (1 << 8) | (1 << 10) | (3 << 12);
/// EPD1: no TTB1 walks (the upper half of the IOVA space faults).
const DISABLE_TTB1: u64 = 1 << 30;
const VALID: u64 = 1 << 31;
const IPS_SHIFT: u32 = 32;
/// AA64: the tables are in the AArch64 format.
const AARCH64: u64 = 1 << 41;
/// R: record faults in the event queue.
const RECORD_FAULTS: u64 = 1 << 45;
/// A: abort faulting transactions (rather than reading zero / ignoring writes).
const ABORT_FAULTS: u64 = 1 << 46;
const ASID_SHIFT: u32 = 48;
/// Word 1 bits 51:4: TTB0.
const TABLE_MASK: u64 = 0x000f_ffff_ffff_fff0;

/// One domain's stage-1 context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContextDescriptor {
    /// Physical address of the level-0 table (4 KiB aligned).
    pub table: u64,
    /// The domain's ASID, which tags its TLB entries.
    pub asid: u16,
    /// The SMMU's output address size in bits (IDR5.OAS): the descriptor's IPS.
    pub output_address_bits: u32,
}

/// The IPS / OAS code of an address size in bits (32, 36, 40, 42, 44, 48; 52 above).
const fn address_size_code(bits: u32) -> u64 {
    match bits {
        0..=32 => 0,
        33..=36 => 1,
        37..=40 => 2,
        41..=42 => 3,
        43..=44 => 4,
        45..=48 => 5,
        _ => 6,
    }
}

impl ContextDescriptor {
    /// The descriptor's eight words.
    ///
    /// # Panics
    ///
    /// If `table` is not 4 KiB aligned or wider than 52 bits (the caller allocated it).
    pub fn encode(self) -> [u64; 8] {
        assert!(
            self.table & 0xfff == 0 && self.table & !TABLE_MASK == 0,
            "translation table {:#x} misaligned or too wide",
            self.table
        );
        let mut words = [0u64; 8];
        words[0] = T0SZ_48_BITS
            | TABLE_WALK_ATTRIBUTES
            | DISABLE_TTB1
            | VALID
            | (address_size_code(self.output_address_bits) << IPS_SHIFT)
            | AARCH64
            | RECORD_FAULTS
            | ABORT_FAULTS
            | (u64::from(self.asid) << ASID_SHIFT);
        words[1] = self.table;
        words[3] = MEMORY_ATTRIBUTES;
        words
    }

    /// Reads back a descriptor this module wrote, if valid.
    pub fn decode(words: &[u64; 8]) -> Option<Self> {
        const BITS: [u32; 7] = [32, 36, 40, 42, 44, 48, 52];
        (words[0] & VALID != 0).then(|| ContextDescriptor {
            table: words[1] & TABLE_MASK,
            asid: (words[0] >> ASID_SHIFT) as u16,
            output_address_bits: BITS[((words[0] >> IPS_SHIFT) & 7).min(6) as usize],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_fields_sit_where_the_spec_says() {
        let words = ContextDescriptor {
            table: 0x4560_0000,
            asid: 7,
            output_address_bits: 44,
        }
        .encode();
        assert_eq!((words[0] >> 32) & 7, 4, "IPS = 44 bits, QEMU's OAS");
        assert_eq!(words[0] & 0x3f, 16, "T0SZ");
        assert_eq!((words[0] >> 6) & 3, 0, "TG0 = 4 KiB");
        assert_ne!(words[0] & (1 << 31), 0, "V");
        assert_ne!(words[0] & (1 << 41), 0, "AA64");
        assert_eq!(words[0] >> 48, 7, "ASID");
        assert_eq!(words[0] & (1 << 15), 0, "little-endian walks");
        assert_eq!(words[1], 0x4560_0000);
        assert_eq!(words[3] & 0xff, 0xff);
        assert_eq!(
            ContextDescriptor::decode(&words),
            Some(ContextDescriptor {
                table: 0x4560_0000,
                asid: 7,
                output_address_bits: 44,
            })
        );
        assert_eq!(ContextDescriptor::decode(&[0; 8]), None);
    }
}
