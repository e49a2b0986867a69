//! Host tests for the ELF load plan, on files built byte by byte.

extern crate std;

use super::*;
use std::vec;
use std::vec::Vec;

const BOTTOM: u64 = 0x40_0000;
const TOP: u64 = 0x0000_8000_0000_0000;

/// (flags, virtual, file offset, file size, memory size, alignment)
type SegmentSpec = (u32, u64, u64, u64, u64, u64);

fn elf(machine: u16, kind: u16, entry: u64, segments: &[SegmentSpec], length: usize) -> Vec<u8> {
    let mut file = vec![0u8; length.max(64 + 56 * segments.len())];
    file[..4].copy_from_slice(b"\x7fELF");
    file[4] = 2;
    file[5] = 1;
    file[6] = 1;
    file[16..18].copy_from_slice(&kind.to_le_bytes());
    file[18..20].copy_from_slice(&machine.to_le_bytes());
    file[24..32].copy_from_slice(&entry.to_le_bytes());
    file[32..40].copy_from_slice(&64u64.to_le_bytes());
    file[54..56].copy_from_slice(&56u16.to_le_bytes());
    file[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
    for (index, (flags, virtual_start, offset, file_size, memory_size, align)) in
        segments.iter().enumerate()
    {
        let header = 64 + index * 56;
        file[header..header + 4].copy_from_slice(&1u32.to_le_bytes());
        file[header + 4..header + 8].copy_from_slice(&flags.to_le_bytes());
        file[header + 8..header + 16].copy_from_slice(&offset.to_le_bytes());
        file[header + 16..header + 24].copy_from_slice(&virtual_start.to_le_bytes());
        file[header + 32..header + 40].copy_from_slice(&file_size.to_le_bytes());
        file[header + 40..header + 48].copy_from_slice(&memory_size.to_le_bytes());
        file[header + 48..header + 56].copy_from_slice(&align.to_le_bytes());
    }
    file
}

fn good() -> Vec<u8> {
    elf(
        62,
        2,
        0x40_1000,
        &[
            (5, 0x40_1000, 0x1000, 0x200, 0x200, 0x1000),
            (6, 0x40_3000, 0x2000, 0x10, 0x3000, 0x1000),
        ],
        0x3000,
    )
}

fn parse(file: &[u8]) -> Result<LoadPlan, ElfError> {
    LoadPlan::parse(file, Machine::X86_64, BOTTOM, TOP)
}

#[test]
fn a_good_program_loads_with_its_permissions() {
    let plan = parse(&good()).unwrap();
    assert_eq!(plan.entry, 0x40_1000);
    let segments: Vec<_> = plan.segments().copied().collect();
    assert_eq!(segments.len(), 2);
    assert!(
        segments[0].flags.is_executable()
            && !segments[0].flags.is_writable()
            && segments[0].flags.is_user()
    );
    assert!(segments[1].flags.is_writable() && !segments[1].flags.is_executable());
    assert_eq!(segments[1].pages(), (0x40_3000, 0x40_6000));
}

#[test]
fn header_errors() {
    assert_eq!(parse(b"not an elf at all"), Err(ElfError::NotElf));
    assert_eq!(parse(&good()[..40]), Err(ElfError::Truncated));
    let mut shared_object = good();
    shared_object[16] = 3;
    assert_eq!(parse(&shared_object), Err(ElfError::NotExecutable));
    assert_eq!(
        LoadPlan::parse(&good(), Machine::Aarch64, BOTTOM, TOP),
        Err(ElfError::WrongMachine)
    );
    let mut big_endian = good();
    big_endian[5] = 2;
    assert_eq!(parse(&big_endian), Err(ElfError::NotElf));
}

#[test]
fn segment_errors() {
    let cases: [(SegmentSpec, ElfError); 6] = [
        (
            (5, 0x40_1000, 0x1000, 0x300, 0x200, 0x1000),
            ElfError::BadSegment,
        ),
        (
            (5, 0x40_1000, 0x2f00, 0x200, 0x200, 0x1000),
            ElfError::Truncated,
        ),
        (
            (5, 0x1000, 0x1000, 0x200, 0x200, 0x1000),
            ElfError::OutsideUserSpace,
        ),
        (
            (5, TOP - 0x100, 0x1f00, 0x200, 0x200, 0x1000),
            ElfError::OutsideUserSpace,
        ),
        (
            (7, 0x40_1000, 0x1000, 0x200, 0x200, 0x1000),
            ElfError::WritableAndExecutable,
        ),
        (
            (5, 0x40_1000, 0x1000, 0x200, u64::MAX, 0x1000),
            ElfError::BadSegment,
        ),
    ];
    for (segment, error) in cases {
        let file = elf(62, 2, 0x40_1000, &[segment], 0x3000);
        assert_eq!(parse(&file), Err(error), "{segment:?}");
    }
    let misaligned = elf(
        62,
        2,
        0x40_1000,
        &[(5, 0x40_1010, 0x1000, 0x200, 0x200, 0x1000)],
        0x3000,
    );
    assert_eq!(parse(&misaligned), Err(ElfError::BadSegment));
}

#[test]
fn overlaps_entry_and_count_errors() {
    let overlap = elf(
        62,
        2,
        0x40_1000,
        &[
            (5, 0x40_1000, 0x1000, 0x200, 0x200, 0x1000),
            (6, 0x40_1800, 0x1800, 0x10, 0x10, 0x1000),
        ],
        0x3000,
    );
    assert_eq!(parse(&overlap), Err(ElfError::Overlapping));
    let data_entry = elf(
        62,
        2,
        0x40_3000,
        &[
            (5, 0x40_1000, 0x1000, 0x200, 0x200, 0x1000),
            (6, 0x40_3000, 0x2000, 0x10, 0x10, 0x1000),
        ],
        0x3000,
    );
    assert_eq!(parse(&data_entry), Err(ElfError::BadEntry));
    let nothing = elf(62, 2, 0x40_1000, &[], 0x100);
    assert_eq!(parse(&nothing), Err(ElfError::SegmentCount));
    let many: Vec<SegmentSpec> = (0..9)
        .map(|i| (5, 0x40_0000 + i * 0x1000, 0x1000, 0x10, 0x10, 0x1000))
        .collect();
    assert_eq!(
        parse(&elf(62, 2, 0x40_0000, &many, 0x3000)),
        Err(ElfError::SegmentCount)
    );
}

#[test]
fn every_truncation_and_byte_flip_is_an_error_or_a_valid_plan_never_a_panic() {
    let file = good();
    for length in 0..file.len() {
        let _ = parse(&file[..length]);
    }
    for index in 0..(64 + 2 * 56) {
        for bit in 0..8 {
            let mut flipped = file.clone();
            flipped[index] ^= 1 << bit;
            if let Ok(plan) = parse(&flipped) {
                for segment in plan.segments() {
                    let (start, end) = segment.pages();
                    assert!(start >= BOTTOM && end <= TOP);
                    assert!(!(segment.flags.is_writable() && segment.flags.is_executable()));
                }
            }
        }
    }
}
