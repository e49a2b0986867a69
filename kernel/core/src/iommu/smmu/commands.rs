//! Command queue entries: the orders software gives the SMMU.

/// A command is 16 bytes: two little-endian 64-bit words.
pub const COMMAND_BYTES: usize = 16;

const CFGI_STE: u64 = 0x03;
const CFGI_STE_RANGE: u64 = 0x04;
const CFGI_CD: u64 = 0x05;
const TLBI_NH_ALL: u64 = 0x10;
const TLBI_NH_ASID: u64 = 0x11;
const TLBI_NH_VA: u64 = 0x12;
const TLBI_S12_VMALL: u64 = 0x28;
const TLBI_NSNH_ALL: u64 = 0x30;
const SYNC: u64 = 0x46;

/// One command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Forget any cached copy of stream `stream`'s STE (CMD_CFGI_STE, leaf).
    InvalidateStreamEntry {
        /// The stream id.
        stream: u32,
    },
    /// Forget every cached STE and CD (CMD_CFGI_ALL: CFGI_STE_RANGE with range 31).
    InvalidateAllConfiguration,
    /// Forget any cached copy of stream `stream`'s context descriptor (CMD_CFGI_CD, SSID 0).
    InvalidateContextDescriptor {
        /// The stream id.
        stream: u32,
    },
    /// Forget every non-secure, non-hypervisor stage-1 TLB entry (CMD_TLBI_NH_ALL).
    InvalidateAllStage1,
    /// Forget every TLB entry of one ASID (CMD_TLBI_NH_ASID).
    InvalidateAsid {
        /// The domain's ASID.
        asid: u16,
    },
    /// Forget the TLB entries for one page of one ASID, walk-cache entries included
    /// (CMD_TLBI_NH_VA with Leaf = 0: an unmap may free the tables that led to the page).
    InvalidatePage {
        /// The domain's ASID.
        asid: u16,
        /// The IOVA of the page (4 KiB aligned; low bits are dropped).
        address: u64,
    },
    /// Forget stage-1 and stage-2 entries of one VMID (CMD_TLBI_S12_VMALL).
    InvalidateVmid {
        /// The VMID.
        vmid: u16,
    },
    /// Forget every non-secure TLB entry (CMD_TLBI_NSNH_ALL).
    InvalidateAll,
    /// Completes once every earlier command has (CMD_SYNC; no interrupt, software polls the
    /// consumer index).
    Sync,
}

impl Command {
    /// The command's two words.
    pub const fn encode(self) -> [u64; 2] {
        match self {
            Command::InvalidateStreamEntry { stream } => [CFGI_STE | ((stream as u64) << 32), 1],
            Command::InvalidateAllConfiguration => [CFGI_STE_RANGE, 31],
            Command::InvalidateContextDescriptor { stream } => {
                [CFGI_CD | ((stream as u64) << 32), 1]
            }
            Command::InvalidateAllStage1 => [TLBI_NH_ALL, 0],
            Command::InvalidateAsid { asid } => [TLBI_NH_ASID | ((asid as u64) << 48), 0],
            Command::InvalidatePage { asid, address } => {
                [TLBI_NH_VA | ((asid as u64) << 48), address & !0xfff]
            }
            Command::InvalidateVmid { vmid } => [TLBI_S12_VMALL | ((vmid as u64) << 32), 0],
            Command::InvalidateAll => [TLBI_NSNH_ALL, 0],
            Command::Sync => [SYNC, 0],
        }
    }
}

/// Why the SMMU stopped the command queue (CMDQ_CONS.ERR).
pub const fn command_error_name(code: u32) -> &'static str {
    match code {
        0 => "none",
        1 => "CERROR_ILL (illegal command)",
        2 => "CERROR_ABT (abort reading the command)",
        3 => "CERROR_ATC_INV_SYNC",
        _ => "unknown command error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcodes_and_fields() {
        assert_eq!(
            Command::InvalidateStreamEntry { stream: 0x10 }.encode(),
            [0x10_0000_0003, 1]
        );
        assert_eq!(Command::InvalidateAllConfiguration.encode(), [0x04, 31]);
        assert_eq!(
            Command::InvalidateContextDescriptor { stream: 8 }.encode(),
            [0x8_0000_0005, 1]
        );
        assert_eq!(Command::InvalidateAllStage1.encode(), [0x10, 0]);
        assert_eq!(
            Command::InvalidateAsid { asid: 3 }.encode(),
            [(3 << 48) | 0x11, 0]
        );
        assert_eq!(
            Command::InvalidatePage {
                asid: 2,
                address: 0x1234_5678
            }
            .encode(),
            [(2 << 48) | 0x12, 0x1234_5000]
        );
        assert_eq!(
            Command::InvalidateVmid { vmid: 1 }.encode(),
            [(1 << 32) | 0x28, 0]
        );
        assert_eq!(Command::InvalidateAll.encode(), [0x30, 0]);
        assert_eq!(Command::Sync.encode(), [0x46, 0]);
        assert_eq!(command_error_name(1), "CERROR_ILL (illegal command)");
    }
}
