//! Stream table entries: what the SMMU does with one stream id's traffic.

/// An STE is 64 bytes: eight little-endian 64-bit words.
pub const STREAM_TABLE_ENTRY_BYTES: usize = 64;

const VALID: u64 = 1;
const CONFIG_SHIFT: u32 = 1;
const CONFIG_ABORT: u64 = 0b000;
const CONFIG_BYPASS: u64 = 0b100;
const CONFIG_STAGE1: u64 = 0b101;
/// Word 0 bits 51:6: the context descriptor's address (64-byte aligned).
const CONTEXT_POINTER_MASK: u64 = 0x000f_ffff_ffff_ffc0;
/// Word 1: S1CIR = S1COR = write-back read-allocate, S1CSH = inner shareable: the SMMU reads
/// context descriptors the way the CPU wrote them (through its write-back linear map).
const CONTEXT_FETCH_ATTRIBUTES: u64 = (1 << 2) | (1 << 4) | (3 << 6);
/// Word 1 bits 45:44, SHCFG = 1: use the incoming shareability (bypass only).
const SHARE_INCOMING: u64 = 1 << 44;

/// What a stream's traffic meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamTableEntry {
    /// Not valid: traffic is aborted and recorded as C_BAD_STE.
    Invalid,
    /// Every access aborted, without an event: a stream no domain owns.
    Abort,
    /// Untranslated, unchecked: the device reaches all of physical memory.
    Bypass,
    /// Stage-1 translation through the context descriptor at `context_descriptor`.
    Stage1 {
        /// Physical address of the stream's one context descriptor (64-byte aligned).
        context_descriptor: u64,
    },
}

impl StreamTableEntry {
    /// The entry's eight words.
    ///
    /// # Panics
    ///
    /// If a stage-1 entry's context descriptor address is not 64-byte aligned or wider
    /// than 52 bits (the caller's broken invariant: it allocated the descriptor).
    pub fn encode(self) -> [u64; 8] {
        let mut words = [0u64; 8];
        match self {
            StreamTableEntry::Invalid => {}
            StreamTableEntry::Abort => words[0] = VALID | (CONFIG_ABORT << CONFIG_SHIFT),
            StreamTableEntry::Bypass => {
                words[0] = VALID | (CONFIG_BYPASS << CONFIG_SHIFT);
                words[1] = SHARE_INCOMING;
            }
            StreamTableEntry::Stage1 { context_descriptor } => {
                assert!(
                    context_descriptor & !CONTEXT_POINTER_MASK == 0,
                    "context descriptor {context_descriptor:#x} misaligned or too wide"
                );
                // S1Fmt = 0 and S1CDMax = 0: one descriptor, no substreams.
                words[0] = VALID | (CONFIG_STAGE1 << CONFIG_SHIFT) | context_descriptor;
                words[1] = CONTEXT_FETCH_ATTRIBUTES;
            }
        }
        words
    }

    /// Reads back an entry this module wrote (for the kernel-side walk of a domain).
    pub fn decode(words: &[u64; 8]) -> Option<Self> {
        if words[0] & VALID == 0 {
            return Some(StreamTableEntry::Invalid);
        }
        match (words[0] >> CONFIG_SHIFT) & 0b111 {
            CONFIG_ABORT => Some(StreamTableEntry::Abort),
            CONFIG_BYPASS => Some(StreamTableEntry::Bypass),
            CONFIG_STAGE1 => Some(StreamTableEntry::Stage1 {
                context_descriptor: words[0] & CONTEXT_POINTER_MASK,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_encode_and_read_back() {
        assert_eq!(StreamTableEntry::Invalid.encode(), [0; 8]);
        assert_eq!(StreamTableEntry::Abort.encode()[0], 0b0001);
        assert_eq!(StreamTableEntry::Bypass.encode()[0], 0b1001);
        let stage1 = StreamTableEntry::Stage1 {
            context_descriptor: 0x4012_3440,
        };
        let words = stage1.encode();
        assert_eq!(words[0], 0x4012_3440 | 0b1011);
        assert_eq!(words[1], 0xd4);
        for entry in [
            StreamTableEntry::Invalid,
            StreamTableEntry::Abort,
            StreamTableEntry::Bypass,
            stage1,
        ] {
            assert_eq!(StreamTableEntry::decode(&entry.encode()), Some(entry));
        }
    }

    #[test]
    #[should_panic(expected = "misaligned")]
    fn misaligned_context_descriptor_is_a_bug() {
        StreamTableEntry::Stage1 {
            context_descriptor: 0x1008,
        }
        .encode();
    }
}
