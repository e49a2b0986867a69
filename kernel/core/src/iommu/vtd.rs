//! Intel VT-d facts and encodings, pure and host-tested: register offsets, capability
//! fields, root and context entries, invalidation commands, fault records, and the
//! second-level page-table format (a [`PageTableFormat`] for the shared 4-level walker, so a
//! device domain's tables are built by the same code as the CPU's).
//!
//! Only what coherent uses: legacy-mode root/context tables (no scalable mode), 4-level
//! second-level tables (48-bit guest address width, SAGAW bit 2), register-based
//! invalidation, fault recording registers polled (the fault event interrupt stays masked).
//! Numbers are from the VT-d specification (rev. 3.x), chapters 9 (structures) and 10
//! (registers).

use super::{Fault, FaultReason, SourceId};
use crate::paging::{EncodeError, PageTableFormat, LAST_LEVEL};
use crate::PageFlags;

/// Version register (32 bits).
pub const VERSION: usize = 0x00;
/// Capability register (64 bits).
pub const CAPABILITY: usize = 0x08;
/// Extended capability register (64 bits).
pub const EXTENDED_CAPABILITY: usize = 0x10;
/// Global command register (32 bits).
pub const GLOBAL_COMMAND: usize = 0x18;
/// Global status register (32 bits).
pub const GLOBAL_STATUS: usize = 0x1c;
/// Root table address register (64 bits).
pub const ROOT_TABLE_ADDRESS: usize = 0x20;
/// Context command register (64 bits).
pub const CONTEXT_COMMAND: usize = 0x28;
/// Fault status register (32 bits).
pub const FAULT_STATUS: usize = 0x34;
/// Fault event control register (32 bits).
pub const FAULT_EVENT_CONTROL: usize = 0x38;

/// Global command / status: translation enable(d).
pub const TRANSLATION_ENABLE: u32 = 1 << 31;
/// Global command / status: set root table pointer (done).
pub const SET_ROOT_TABLE: u32 = 1 << 30;
/// Global status bits that are one-shot commands, never written back (VT-d 10.4.4: SRTP,
/// SFL, WBF, SIRTP are one-shot; the rest are persistent states).
const ONE_SHOT: u32 = (1 << 30) | (1 << 29) | (1 << 27) | (1 << 24);

/// Fault event control: interrupt mask.
pub const FAULT_INTERRUPT_MASK: u32 = 1 << 31;
/// Fault status: a fault record was lost (write 1 to clear).
pub const FAULT_OVERFLOW: u32 = 1 << 0;
/// Fault status: primary pending fault (some record holds a fault).
pub const FAULT_PENDING: u32 = 1 << 1;

/// The global command value that issues `command` while keeping every persistent state the
/// status register shows (`status`).
pub const fn global_command(status: u32, command: u32) -> u32 {
    (status & !ONE_SHOT) | command
}

/// The capability register's fields coherent uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability(pub u64);

impl Capability {
    /// Domain IDs supported: 2^(4 + 2·ND).
    pub fn domains(self) -> u32 {
        1 << (4 + 2 * (self.0 & 7))
    }

    /// Whether caching mode is set (not-present entries may be cached: every change, even
    /// not-present → present, needs an invalidation).
    pub fn caching_mode(self) -> bool {
        self.0 & (1 << 7) != 0
    }

    /// Whether 4-level (48-bit) second-level tables are supported (SAGAW bit 2).
    pub fn four_level(self) -> bool {
        (self.0 >> 8) & (1 << 2) != 0
    }

    /// Byte offset of the first fault recording register (FRO · 16).
    pub fn fault_records_offset(self) -> usize {
        (((self.0 >> 24) & 0x3ff) as usize) * 16
    }

    /// Number of fault recording registers (NFR + 1).
    pub fn fault_records(self) -> usize {
        (((self.0 >> 40) & 0xff) as usize) + 1
    }
}

/// The extended capability register's fields coherent uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtendedCapability(pub u64);

impl ExtendedCapability {
    /// Byte offset of the IOTLB invalidate register (IRO · 16 + 8; the IVA register is at
    /// IRO · 16).
    pub fn iotlb_offset(self) -> usize {
        (((self.0 >> 8) & 0x3ff) as usize) * 16 + 8
    }

    /// Whether hardware walks of the tables snoop the CPU caches (C bit); without it every
    /// table write must be flushed to memory before the IOMMU may see it.
    pub fn coherent(self) -> bool {
        self.0 & 1 != 0
    }
}

/// Context command: invalidate the context cache, globally (ICC, CIRG = 01); the register's
/// ICC bit reads 0 once done.
pub const CONTEXT_INVALIDATE_GLOBAL: u64 = (1 << 63) | (1 << 61);
/// Context command / IOTLB register: the invalidation is still running while this bit reads 1.
pub const INVALIDATION_BUSY: u64 = 1 << 63;

/// IOTLB invalidate command for every entry of domain `domain` (IVT, IIRG = 10, drain
/// reads and writes first).
pub const fn iotlb_invalidate_domain(domain: u16) -> u64 {
    (1 << 63) | (2 << 60) | (1 << 49) | (1 << 48) | ((domain as u64) << 32)
}

/// IOTLB invalidate command for everything (IVT, IIRG = 01, drain reads and writes).
pub const IOTLB_INVALIDATE_GLOBAL: u64 = (1 << 63) | (1 << 60) | (1 << 49) | (1 << 48);

/// The 16-byte root entry (low, high) for a bus whose context table is at `context_table`.
pub const fn root_entry(context_table: u64) -> (u64, u64) {
    ((context_table & !0xfff) | 1, 0)
}

/// Address width field of a context entry for 4-level (48-bit) tables.
const ADDRESS_WIDTH_48: u64 = 2;

/// The 16-byte context entry (low, high) translating through the 4-level second-level table
/// at `root` for domain `domain` (translation type 00: untranslated requests only; fault
/// processing enabled).
pub const fn context_entry(root: u64, domain: u16) -> (u64, u64) {
    (
        (root & !0xfff) | 1,
        ADDRESS_WIDTH_48 | ((domain as u64) << 8),
    )
}

/// A fault recording register's high 64 bits: F (fault, write 1 to clear).
pub const FAULT_RECORD_FAULT: u64 = 1 << 63;
/// Its T bit: 1 = read request, 0 = write request.
const FAULT_RECORD_READ: u64 = 1 << 62;

/// The fault one fault recording register holds (`low`, `high` halves), if any.
pub fn decode_fault(low: u64, high: u64) -> Option<Fault> {
    if high & FAULT_RECORD_FAULT == 0 {
        return None;
    }
    let reason = ((high >> 32) & 0xff) as u16;
    Some(Fault {
        source: SourceId((high & 0xffff) as u32),
        address: low & !0xfff,
        write: high & FAULT_RECORD_READ == 0,
        reason: match reason {
            // Root or context entry not present: the source has no domain.
            0x1 | 0x2 => FaultReason::NoDomain,
            // The second-level entry lacks the read (or write) bit: not mapped, or read-only.
            0x5 | 0x6 => FaultReason::NotMapped,
            other => FaultReason::Other(other),
        },
    })
}

/// Second-level page-table entry bits.
const READ: u64 = 1 << 0;
const WRITE: u64 = 1 << 1;
const ADDRESS: u64 = 0x000f_ffff_ffff_f000;

/// The VT-d second-level page-table format: 4 KiB leaves only (a device domain maps buffers
/// page by page; large pages would need SLLPS), read always granted, write when the flags
/// are writable. User, executable and cache type mean nothing to a device and are ignored.
pub enum SecondLevel {}

impl PageTableFormat for SecondLevel {
    fn encode_leaf(physical: u64, flags: PageFlags, level: usize) -> Result<u64, EncodeError> {
        if level != LAST_LEVEL {
            return Err(EncodeError::UnsupportedLevel);
        }
        if physical & 0xfff != 0 {
            return Err(EncodeError::Misaligned);
        }
        if physical & !ADDRESS != 0 {
            return Err(EncodeError::AddressTooWide);
        }
        Ok(physical | READ | if flags.is_writable() { WRITE } else { 0 })
    }

    fn encode_table(physical: u64) -> u64 {
        (physical & ADDRESS) | READ | WRITE
    }

    fn decode_leaf(entry: u64, level: usize) -> Option<(u64, PageFlags)> {
        if level != LAST_LEVEL || entry & READ == 0 {
            return None;
        }
        let flags = PageFlags::kernel();
        Some((
            entry & ADDRESS,
            if entry & WRITE != 0 {
                flags.writable()
            } else {
                flags
            },
        ))
    }

    fn table_address(entry: u64, level: usize) -> Option<u64> {
        (level < LAST_LEVEL && entry & (READ | WRITE) != 0).then_some(entry & ADDRESS)
    }

    fn is_present(entry: u64) -> bool {
        entry & (READ | WRITE) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paging::testing::emulated_machine;
    use crate::paging::{PageSizes, PageTable};

    #[test]
    fn capability_fields_decode_qemu_values() {
        // QEMU 7.2 intel-iommu with aw-bits=48: ND=2, SAGAW=0b110, FRO=0x22, NFR=0.
        let capability = Capability(2 | (0b110 << 8) | (0x22 << 24));
        assert!(capability.four_level());
        assert_eq!(capability.domains(), 256);
        assert_eq!(capability.fault_records_offset(), 0x220);
        assert_eq!(capability.fault_records(), 1);
        assert_eq!(ExtendedCapability(0xf0 << 4).iotlb_offset(), 0xf8);
    }

    #[test]
    fn commands_keep_persistent_state_and_drop_one_shots() {
        let status = TRANSLATION_ENABLE | SET_ROOT_TABLE;
        assert_eq!(
            global_command(status, SET_ROOT_TABLE),
            TRANSLATION_ENABLE | SET_ROOT_TABLE
        );
        assert_eq!(
            global_command(SET_ROOT_TABLE, TRANSLATION_ENABLE),
            TRANSLATION_ENABLE
        );
        assert_eq!(iotlb_invalidate_domain(3) >> 32 & 0xffff, 3);
        assert_eq!(iotlb_invalidate_domain(3) >> 60 & 3, 2);
    }

    #[test]
    fn root_and_context_entries() {
        assert_eq!(root_entry(0x12_3000), (0x12_3001, 0));
        assert_eq!(context_entry(0x45_6000, 7), (0x45_6001, 0x702));
    }

    #[test]
    fn fault_records_decode_device_address_and_direction() {
        let high = FAULT_RECORD_FAULT | (5 << 32) | 0x18;
        let fault = decode_fault(0x1234_5000, high).unwrap();
        assert_eq!(fault.source, SourceId::pci(0, 3, 0));
        assert_eq!(fault.address, 0x1234_5000);
        assert!(fault.write);
        assert_eq!(fault.reason, FaultReason::NotMapped);
        let read = decode_fault(0x1000, high | FAULT_RECORD_READ).unwrap();
        assert!(!read.write);
        assert_eq!(decode_fault(0x1000, 0x18), None);
        let no_domain = decode_fault(0, FAULT_RECORD_FAULT | (2 << 32)).unwrap();
        assert_eq!(no_domain.reason, FaultReason::NoDomain);
    }

    #[test]
    fn second_level_leaves_and_tables() {
        let rw = PageFlags::kernel().writable();
        assert_eq!(SecondLevel::encode_leaf(0x5000, rw, 3), Ok(0x5003));
        assert_eq!(
            SecondLevel::encode_leaf(0x5000, PageFlags::kernel(), 3),
            Ok(0x5001)
        );
        assert_eq!(
            SecondLevel::encode_leaf(0x20_0000, rw, 2),
            Err(EncodeError::UnsupportedLevel)
        );
        assert_eq!(
            SecondLevel::encode_leaf(1 << 52, rw, 3),
            Err(EncodeError::AddressTooWide)
        );
        assert_eq!(SecondLevel::decode_leaf(0x5003, 3), Some((0x5000, rw)));
        assert_eq!(SecondLevel::table_address(0x7003, 1), Some(0x7000));
        assert_eq!(SecondLevel::table_address(0, 1), None);
    }

    #[test]
    fn a_domain_maps_walks_and_unmaps_through_the_shared_walker() {
        let (mut memory, mut frames) = emulated_machine();
        let mut table = PageTable::<SecondLevel>::new(&mut frames).unwrap();
        let rw = PageFlags::kernel().writable();
        table
            .map(
                &mut memory,
                &mut frames,
                0x1f00_0000,
                0x1f00_0000,
                0x3000,
                rw,
                PageSizes::Small,
            )
            .unwrap();
        let mut leaves = alloc::vec::Vec::new();
        table.for_each_leaf(&memory, |leaf| {
            leaves.push((leaf.virtual_start, leaf.entry))
        });
        assert_eq!(
            leaves,
            [
                (0x1f00_0000, 0x1f00_0003),
                (0x1f00_1000, 0x1f00_1003),
                (0x1f00_2000, 0x1f00_2003)
            ]
        );
        let mut gone = 0;
        table
            .unmap(&mut memory, &mut frames, 0x1f00_0000, 0x3000, |_, _, _| {
                gone += 1
            })
            .unwrap();
        assert_eq!(gone, 3);
        assert_eq!(table.count_tables(&memory), 1);
    }
}
