//! Fixture tables in fake physical memory: a q35-like set, then each way they can be wrong.

extern crate std;

use crate::{read, read_madt, read_mcfg, AcpiError, AcpiInfo, Summary, TableError, TableMemory};
use acpi::{AcpiHandler, PhysicalMapping};
use core::ptr::NonNull;
use kernel_core::machine::{
    InterruptController, InterruptOverride, IoApic, MachineDescription, PciHostBridge, Source,
    MAX_CPUS,
};
use std::vec;
use std::vec::Vec;

/// Where the fixture memory starts.
const BASE: u64 = 0x000e_0000;
/// Where the root table lies.
const ROOT: u64 = BASE + 0x100;
/// Where the first listed table lies; the next ones follow every 0x1000 bytes.
const FIRST_TABLE: u64 = BASE + 0x1000;

/// Fixture physical memory: `bytes` is physical `BASE..`.
#[derive(Clone, Copy)]
struct Memory {
    bytes: &'static [u8],
}

impl AcpiHandler for Memory {
    unsafe fn map_physical_region<T>(
        &self,
        physical: usize,
        size: usize,
    ) -> PhysicalMapping<Self, T> {
        // The reader promised to map only what `readable` allows: anything else is its bug.
        assert!(
            self.readable(physical as u64, size as u64),
            "mapped {physical:#x}+{size:#x}"
        );
        let offset = physical - BASE as usize;
        let pointer = NonNull::from(&self.bytes[offset]).cast::<T>();
        // SAFETY: `size` bytes from `pointer` lie in the leaked fixture, which lives forever.
        unsafe { PhysicalMapping::new(physical, pointer, size, size, *self) }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}
}

impl TableMemory for Memory {
    fn readable(&self, physical: u64, length: u64) -> bool {
        physical >= BASE
            && physical
                .checked_add(length)
                .is_some_and(|end| end <= BASE + self.bytes.len() as u64)
    }
}

fn checksum(bytes: &[u8]) -> u8 {
    0u8.wrapping_sub(bytes.iter().fold(0u8, |sum, byte| sum.wrapping_add(*byte)))
}

/// A system description table with a correct checksum.
fn table(signature: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(signature);
    bytes.extend_from_slice(&((36 + body.len()) as u32).to_le_bytes());
    bytes.push(1); // revision
    bytes.push(0); // checksum, below
    bytes.extend_from_slice(b"COHRNT");
    bytes.extend_from_slice(b"FIXTURE ");
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(b"TEST");
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(body);
    bytes[9] = checksum(&bytes);
    bytes
}

/// Recomputes a table's checksum after a test changed it.
fn reseal(bytes: &mut [u8]) {
    bytes[9] = 0;
    bytes[9] = checksum(bytes);
}

fn rsdp(revision: u8, root: u64) -> Vec<u8> {
    let mut bytes = vec![0u8; 36];
    bytes[..8].copy_from_slice(b"RSD PTR ");
    bytes[9..15].copy_from_slice(b"COHRNT");
    bytes[15] = revision;
    if revision == 0 {
        bytes[16..20].copy_from_slice(&(root as u32).to_le_bytes());
    } else {
        bytes[20..24].copy_from_slice(&36u32.to_le_bytes());
        bytes[24..32].copy_from_slice(&root.to_le_bytes());
    }
    bytes[8] = checksum(&bytes[..20]);
    if revision != 0 {
        bytes[32] = checksum(&bytes);
    }
    bytes
}

fn mcfg(entries: &[(u64, u16, u8, u8)]) -> Vec<u8> {
    let mut body = vec![0u8; 8];
    for &(base, segment, start, end) in entries {
        body.extend_from_slice(&base.to_le_bytes());
        body.extend_from_slice(&segment.to_le_bytes());
        body.extend_from_slice(&[start, end, 0, 0, 0, 0]);
    }
    table(b"MCFG", &body)
}

fn local_apic(uid: u8, id: u8, flags: u32) -> Vec<u8> {
    let mut entry = vec![0, 8, uid, id];
    entry.extend_from_slice(&flags.to_le_bytes());
    entry
}

fn io_apic(id: u8, address: u32, base: u32) -> Vec<u8> {
    let mut entry = vec![1, 12, id, 0];
    entry.extend_from_slice(&address.to_le_bytes());
    entry.extend_from_slice(&base.to_le_bytes());
    entry
}

fn interrupt_override(source: u8, target: u32, flags: u16) -> Vec<u8> {
    let mut entry = vec![2, 10, 0, source];
    entry.extend_from_slice(&target.to_le_bytes());
    entry.extend_from_slice(&flags.to_le_bytes());
    entry
}

fn madt(local_apic_address: u32, entries: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&local_apic_address.to_le_bytes());
    body.extend_from_slice(&1u32.to_le_bytes()); // PC-AT compatible 8259s present
    for entry in entries {
        body.extend_from_slice(entry);
    }
    table(b"APIC", &body)
}

/// What QEMU q35 describes for one CPU (plus a disabled and an x2APIC-only one).
fn q35_madt() -> Vec<u8> {
    let mut x2apic = vec![9, 16, 0, 0];
    x2apic.extend_from_slice(&300u32.to_le_bytes());
    x2apic.extend_from_slice(&1u32.to_le_bytes());
    x2apic.extend_from_slice(&7u32.to_le_bytes());
    madt(
        0xfee0_0000,
        &[
            local_apic(0, 0, 1),
            local_apic(1, 1, 0), // not enabled: not a CPU
            x2apic,
            io_apic(0, 0xfec0_0000, 0),
            interrupt_override(0, 2, 0),
            interrupt_override(5, 5, 0xd),
            interrupt_override(9, 9, 0xd),
            interrupt_override(10, 10, 0xd),
            interrupt_override(11, 11, 0xd),
            vec![4, 6, 0xff, 0, 0, 1], // local APIC NMI: skipped
        ],
    )
}

fn q35_tables() -> Vec<Vec<u8>> {
    vec![
        table(b"FACP", &[0; 8]),
        q35_madt(),
        mcfg(&[(0xb000_0000, 0, 0, 255)]),
    ]
}

/// Lays out the RSDP at `BASE`, the root table at `ROOT` and `tables` after it.
fn memory(revision: u8, tables: &[Vec<u8>]) -> (Memory, Vec<u8>) {
    let mut bytes = vec![0u8; 0x10000];
    let root_signature = if revision == 0 { b"RSDT" } else { b"XSDT" };
    let mut body = Vec::new();
    for (index, table) in tables.iter().enumerate() {
        let address = FIRST_TABLE + 0x1000 * index as u64;
        let offset = (address - BASE) as usize;
        bytes[offset..offset + table.len()].copy_from_slice(table);
        if revision == 0 {
            body.extend_from_slice(&(address as u32).to_le_bytes());
        } else {
            body.extend_from_slice(&address.to_le_bytes());
        }
    }
    let root = table(root_signature, &body);
    let rsdp = rsdp(revision, ROOT);
    bytes[..rsdp.len()].copy_from_slice(&rsdp);
    let offset = (ROOT - BASE) as usize;
    bytes[offset..offset + root.len()].copy_from_slice(&root);
    (
        Memory {
            bytes: std::boxed::Box::leak(bytes.clone().into_boxed_slice()),
        },
        bytes,
    )
}

fn leak(bytes: Vec<u8>) -> Memory {
    Memory {
        bytes: std::boxed::Box::leak(bytes.into_boxed_slice()),
    }
}

fn read_all(memory: Memory) -> (Result<AcpiInfo, AcpiError>, MachineDescription) {
    let mut machine = MachineDescription::new();
    // SAFETY: the fixture memory is leaked and never written.
    let result = unsafe { read(memory, BASE, &mut machine) };
    (result, machine)
}

fn assert_q35(machine: &MachineDescription) {
    let mut host = PciHostBridge::new(0xb000_0000, 0x1000_0000, 0, 255, Source::Acpi("MCFG"));
    host.segment = 0;
    assert_eq!(machine.pci_hosts().copied().collect::<Vec<_>>(), [host]);
    assert_eq!(
        machine.interrupt_controller,
        InterruptController::Apic {
            local_apic: 0xfee0_0000
        }
    );
    assert_eq!(machine.interrupt_controller_source, Source::Acpi("APIC"));
    assert_eq!(machine.cpus().collect::<Vec<_>>(), [0, 300]);
    assert_eq!(
        machine.io_apics().copied().collect::<Vec<_>>(),
        [IoApic {
            id: 0,
            address: 0xfec0_0000,
            interrupt_base: 0
        }]
    );
    let overrides: Vec<InterruptOverride> = machine.overrides().copied().collect();
    assert_eq!(overrides.len(), 5);
    assert_eq!(
        overrides[0],
        InterruptOverride {
            source: 0,
            target: 2,
            active_low: false,
            level_triggered: false
        }
    );
    for (entry, irq) in overrides[1..].iter().zip([5, 9, 10, 11]) {
        assert_eq!(
            *entry,
            InterruptOverride {
                source: irq,
                target: u32::from(irq),
                active_low: false,
                level_triggered: true
            }
        );
    }
    assert_eq!(machine.isa_interrupt(0), 2);
}

#[test]
fn q35_xsdt_gives_the_whole_machine() {
    let (memory, _) = memory(2, &q35_tables());
    let (info, machine) = read_all(memory);
    let info = info.unwrap();
    assert_eq!(info.revision, 2);
    assert_eq!(&info.oem_id, b"COHRNT");
    assert_eq!(info.root, (*b"XSDT", ROOT));
    let signatures: Vec<[u8; 4]> = info.tables().map(|table| table.signature).collect();
    assert_eq!(signatures, [*b"FACP", *b"APIC", *b"MCFG"]);
    assert_eq!(
        info.mcfg,
        Ok(Summary {
            kept: 1,
            dropped: 0
        })
    );
    assert_eq!(
        info.madt,
        Ok(Summary {
            kept: 8,
            dropped: 0
        })
    );
    assert_q35(&machine);
}

#[test]
fn acpi_1_rsdt_gives_the_same_machine() {
    let (memory, _) = memory(0, &q35_tables());
    let (info, machine) = read_all(memory);
    let info = info.unwrap();
    assert_eq!(info.revision, 0);
    assert_eq!(info.root, (*b"RSDT", ROOT));
    assert_q35(&machine);
}

#[test]
fn a_bad_rsdp_gives_nothing() {
    let (_, bytes) = memory(2, &q35_tables());
    let mut checksum = bytes.clone();
    checksum[8] ^= 1;
    assert_eq!(
        read_all(leak(checksum)).0.unwrap_err(),
        AcpiError::RsdpChecksum
    );
    let mut signature = bytes.clone();
    signature[0] = b'X';
    assert_eq!(
        read_all(leak(signature)).0.unwrap_err(),
        AcpiError::RsdpSignature
    );
    let mut length = bytes.clone();
    length[20] = 20;
    assert_eq!(
        read_all(leak(length)).0.unwrap_err(),
        AcpiError::RsdpLength(20)
    );
    let (result, machine) = read_all(leak(vec![0; 16]));
    assert_eq!(result.unwrap_err(), AcpiError::RsdpUnreadable(BASE));
    assert!(machine.pci_hosts().next().is_none());
}

#[test]
fn a_bad_root_table_gives_nothing() {
    let (_, bytes) = memory(2, &q35_tables());
    let root = (ROOT - BASE) as usize;
    let mut checksum = bytes.clone();
    checksum[root + 9] ^= 1;
    let (result, machine) = read_all(leak(checksum));
    assert_eq!(result.unwrap_err(), AcpiError::RootTable);
    assert!(machine.cpus().next().is_none());

    let mut truncated = bytes.clone();
    truncated[root + 4] = 20;
    reseal(&mut truncated[root..root + 20]);
    assert_eq!(
        read_all(leak(truncated)).0.unwrap_err(),
        AcpiError::TableTruncated(ROOT)
    );

    let mut outside = bytes.clone();
    outside[root + 36..root + 44].copy_from_slice(&0x1_0000_0000u64.to_le_bytes());
    reseal(&mut outside[root..root + 36 + 24]);
    assert_eq!(
        read_all(leak(outside)).0.unwrap_err(),
        AcpiError::TableUnreadable(0x1_0000_0000)
    );
}

#[test]
fn a_bad_mcfg_costs_only_the_ecam_window() {
    let mut tables = q35_tables();
    tables[2][40] ^= 1; // a reserved byte: the checksum no longer holds
    let (memory, _) = memory(2, &tables);
    let (info, machine) = read_all(memory);
    let info = info.unwrap();
    assert_eq!(info.mcfg, Err(TableError::Invalid));
    assert!(machine.pci_hosts().next().is_none());
    assert_eq!(machine.cpus().count(), 2);

    let mut short = table(b"MCFG", &[0; 4]);
    reseal(&mut short);
    let (memory, _) = self::memory(2, &[short, q35_madt()]);
    let (info, machine) = read_all(memory);
    assert_eq!(info.unwrap().mcfg, Err(TableError::Truncated));
    assert!(machine.pci_hosts().next().is_none());
}

#[test]
fn a_missing_madt_is_reported() {
    let (memory, _) = memory(2, &[mcfg(&[(0xb000_0000, 0, 0, 255)])]);
    let (info, machine) = read_all(memory);
    let info = info.unwrap();
    assert_eq!(info.madt, Err(TableError::Missing));
    assert_eq!(
        info.mcfg,
        Ok(Summary {
            kept: 1,
            dropped: 0
        })
    );
    assert_eq!(machine.interrupt_controller, InterruptController::Unknown);
}

#[test]
fn malformed_madt_entries_are_refused() {
    let past_end = madt(0xfee0_0000, &[local_apic(0, 0, 1), vec![1, 12, 0, 0]]);
    let mut machine = MachineDescription::new();
    assert_eq!(
        read_madt(&past_end, &mut machine),
        Err(TableError::BadEntry { offset: 52 })
    );
    let zero_length = madt(0xfee0_0000, &[vec![0, 0, 0, 0, 0, 0, 0, 0]]);
    assert_eq!(
        read_madt(&zero_length, &mut MachineDescription::new()),
        Err(TableError::BadEntry { offset: 44 })
    );
    let short_entry = madt(0xfee0_0000, &[vec![1, 8, 0, 0, 0, 0, 0, 0]]);
    assert_eq!(
        read_madt(&short_entry, &mut MachineDescription::new()),
        Err(TableError::BadEntry { offset: 44 })
    );
    let mut longer_than_given = q35_madt();
    longer_than_given.truncate(60);
    assert_eq!(
        read_madt(&longer_than_given, &mut MachineDescription::new()),
        Err(TableError::Truncated)
    );
}

#[test]
fn the_local_apic_address_override_wins() {
    let mut entry = vec![5, 12, 0, 0];
    entry.extend_from_slice(&0x1_fee0_0000u64.to_le_bytes());
    let table = madt(0xfee0_0000, &[entry]);
    let mut machine = MachineDescription::new();
    read_madt(&table, &mut machine).unwrap();
    assert_eq!(
        machine.interrupt_controller,
        InterruptController::Apic {
            local_apic: 0x1_fee0_0000
        }
    );
}

#[test]
fn full_tables_keep_the_first_entries_and_count_the_rest() {
    let entries: Vec<Vec<u8>> = (0..MAX_CPUS as u8 + 6)
        .map(|id| local_apic(id, id, 1))
        .collect();
    let mut machine = MachineDescription::new();
    let summary = read_madt(&madt(0xfee0_0000, &entries), &mut machine).unwrap();
    assert_eq!(
        summary,
        Summary {
            kept: MAX_CPUS,
            dropped: 6
        }
    );
    assert_eq!(machine.cpus().count(), MAX_CPUS);
}

#[test]
fn mcfg_entries_decode_segment_and_bus_range() {
    let mut machine = MachineDescription::new();
    let table = mcfg(&[(0xe000_0000, 1, 0x10, 0x1f), (0xb000_0000, 0, 0, 0)]);
    assert_eq!(read_mcfg(&table, &mut machine).unwrap().kept, 2);
    let hosts: Vec<&PciHostBridge> = machine.pci_hosts().collect();
    assert_eq!(
        (hosts[0].ecam_base, hosts[0].ecam_size, hosts[0].segment),
        (0xe000_0000, 16 << 20, 1)
    );
    assert_eq!((hosts[0].bus_start, hosts[0].bus_end), (0x10, 0x1f));
    assert_eq!(hosts[1].ecam_size, 1 << 20);

    let backwards = mcfg(&[(0xb000_0000, 0, 5, 4)]);
    assert_eq!(
        read_mcfg(&backwards, &mut MachineDescription::new()),
        Err(TableError::BadEntry { offset: 44 })
    );
    // A length that is not a whole number of entries is rounded down.
    let mut padded = mcfg(&[(0xb000_0000, 0, 0, 255)]);
    padded.extend_from_slice(&[0; 4]);
    padded[4] += 4;
    let mut machine = MachineDescription::new();
    assert_eq!(read_mcfg(&padded, &mut machine).unwrap().kept, 1);
}

#[test]
fn no_corruption_of_one_byte_panics() {
    let (_, bytes) = memory(2, &q35_tables());
    let interesting = (0..64)
        .chain((ROOT - BASE) as usize..(ROOT - BASE) as usize + 64)
        .chain(0x1000..0x1100)
        .chain(0x2000..0x2080);
    for offset in interesting {
        for value in [0x00, 0x01, 0x7f, 0xff] {
            let mut corrupt = bytes.clone();
            corrupt[offset] = value;
            let _ = read_all(leak(corrupt));
        }
    }
    let madt = q35_madt();
    for length in 0..madt.len() {
        let _ = read_madt(&madt[..length], &mut MachineDescription::new());
        let _ = read_mcfg(&madt[..length], &mut MachineDescription::new());
    }
}

/// A DMAR with the given remapping structures (host address width 39).
fn dmar(structures: &[Vec<u8>]) -> Vec<u8> {
    let mut body = vec![38, 0]; // host address width - 1, flags
    body.extend_from_slice(&[0; 10]);
    for structure in structures {
        body.extend_from_slice(structure);
    }
    table(b"DMAR", &body)
}

/// A DRHD as QEMU's intel-iommu writes it: INCLUDE_PCI_ALL, segment 0, registers at
/// 0xfed90000, no device scopes.
fn drhd(flags: u8, registers: u64) -> Vec<u8> {
    let mut bytes = vec![0, 0, 16, 0, flags, 0, 0, 0];
    bytes.extend_from_slice(&registers.to_le_bytes());
    bytes
}

#[test]
fn dmar_gives_the_vt_d_unit() {
    let rmrr = vec![
        1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let mut tables = q35_tables();
    tables.push(dmar(&[drhd(1, 0xfed9_0000), rmrr]));
    let (memory, _) = memory(2, &tables);
    let (info, machine) = read_all(memory);
    assert_eq!(
        info.unwrap().dmar,
        Ok(Summary {
            kept: 1,
            dropped: 0
        })
    );
    let units: Vec<_> = machine.iommus().copied().collect();
    assert_eq!(
        units,
        [kernel_core::iommu::IommuUnit {
            kind: kernel_core::iommu::IommuKind::VtD,
            registers: 0xfed9_0000,
            size: 4096,
            segment: 0,
            include_all: true,
            interrupt: None,
        }]
    );
}

#[test]
fn malformed_dmar_structures_are_refused() {
    let mut zero_length = drhd(1, 0xfed9_0000);
    zero_length[2] = 0;
    let mut short_drhd = drhd(1, 0xfed9_0000);
    short_drhd[2] = 8;
    let mut past_end = drhd(1, 0xfed9_0000);
    past_end[2] = 200;
    for structure in [zero_length, short_drhd, past_end] {
        let mut machine = MachineDescription::new();
        assert_eq!(
            crate::read_dmar(&dmar(&[structure]), &mut machine),
            Err(TableError::BadEntry { offset: 48 })
        );
        assert_eq!(machine.iommus().count(), 0);
    }
    let mut machine = MachineDescription::new();
    assert_eq!(
        crate::read_dmar(&table(b"DMAR", &[38]), &mut machine),
        Err(TableError::Truncated)
    );
}

#[test]
fn a_bad_dmar_checksum_costs_only_the_iommu() {
    let mut tables = q35_tables();
    let mut table = dmar(&[drhd(1, 0xfed9_0000)]);
    table[40] ^= 1;
    tables.push(table);
    let (memory, _) = memory(2, &tables);
    let (info, machine) = read_all(memory);
    assert_eq!(info.unwrap().dmar, Err(TableError::Invalid));
    assert_eq!(machine.iommus().count(), 0);
    assert_q35(&machine);
}
