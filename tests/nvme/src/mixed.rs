//! Bulk requests (one NVMe command of up to 256 blocks each, PRP lists above two pages),
//! checked by digest, and requests the driver must refuse.
//!
//! The second half of the disk is the scratch area. Each of its blocks has a generation:
//! 0 while it holds the image's pattern, `g` after the `g`th write that covered it, and its
//! bytes are `disk_api::image::generation_byte(block, g, index)` — the driver writes them
//! itself for a bulk write, so a read's digest is computed here without moving data.

use crate::driver::open;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use blk_tests::XorShift;
use disk_api::bulk::{Bulk, BulkKind, Digest, MAX_BULK_SECTORS};
use disk_api::image::{generation_byte, pattern_mismatch, sectors, DEFAULT_SIZE};
use disk_api::{Seek, SECTOR_SIZE};
use disk_client::Disk;
use process_tests::check::{errno_name, expect_errno, Outcome};
use process_tests::ensure;
use userlib::sys::error::{EINVAL, ENOSPC};
use userlib::sys::{self, Result};

const REQUESTS: u32 = 1000;
const SECTOR: usize = SECTOR_SIZE as usize;

/// Sends a bulk request; returns the reply (the digest for a read).
fn bulk(disk: &Disk, request: Bulk) -> Result<Vec<u8>> {
    disk.call(&request.to_bytes(), 8)
}

/// The driver's `nvme:/status` counters `interrupts` and `completions`.
fn interrupt_counters() -> core::result::Result<(u64, u64), alloc::string::String> {
    let bytes = sys::read_file(&format!("{}:/status", crate::SCHEME))
        .map_err(|error| format!("status: {}", errno_name(error.errno)))?;
    let text = alloc::string::String::from_utf8(bytes).map_err(|_| "status is not text")?;
    let number = |key| disk_api::status::number(&text, key).unwrap_or(0);
    Ok((number("interrupts"), number("completions")))
}

/// The 1,000 requests, each one completion taken by exactly one interrupt (MSI-X, or INTx
/// on aarch64: a pin interrupt QEMU left asserted after a reset made it more).
pub fn mixed_requests() -> Outcome {
    let (interrupts_before, completions_before) = interrupt_counters()?;
    let first = sectors(DEFAULT_SIZE) / 2;
    let count = sectors(DEFAULT_SIZE) - first;
    let mut generations: Vec<u16> = vec![0; count as usize];
    let mut random = XorShift(0x2545_F491_4F6C_DD1D);
    let disk = open(0)?;
    let mut next_generation: u16 = 1;
    let mut longest = 0;
    for request in 0..REQUESTS {
        let length = 1 + random.next_value() % u64::from(MAX_BULK_SECTORS);
        longest = longest.max(length);
        let start = random.next_value() % (count - length + 1);
        let sector = first + start;
        let blocks = start as usize..(start + length) as usize;
        if random.next_value().is_multiple_of(2) {
            let generation = next_generation;
            next_generation = next_generation.wrapping_add(1).max(1);
            let write = Bulk {
                kind: BulkKind::WriteGeneration(generation),
                sector,
                count: length as u32,
            };
            bulk(&disk, write).map_err(|error| {
                format!(
                    "request {request}: write {length} blocks at {sector}: {}",
                    errno_name(error.errno)
                )
            })?;
            generations[blocks].fill(generation);
        } else {
            let read = Bulk {
                kind: BulkKind::ReadDigest,
                sector,
                count: length as u32,
            };
            let reply = bulk(&disk, read).map_err(|error| {
                format!(
                    "request {request}: read {length} blocks at {sector}: {}",
                    errno_name(error.errno)
                )
            })?;
            let mut expected = Digest::default();
            for (offset, generation) in generations[blocks].iter().enumerate() {
                for index in 0..SECTOR {
                    expected.push(generation_byte(sector + offset as u64, *generation, index));
                }
            }
            ensure!(
                reply == expected.value().to_le_bytes(),
                "request {request}: {length} blocks at {sector} do not hold what was written"
            );
        }
    }
    ensure!(
        longest > 8,
        "no request needed a PRP list (longest {longest} blocks)"
    );
    let (interrupts_after, completions_after) = interrupt_counters()?;
    let (interrupts, completions) = (
        interrupts_after - interrupts_before,
        completions_after - completions_before,
    );
    userlib::println!(
        "{REQUESTS} bulk requests: {completions} completions, {interrupts} interrupts"
    );
    ensure!(
        completions >= u64::from(REQUESTS) && interrupts == completions,
        "{REQUESTS} bulk requests: {completions} completions, {interrupts} interrupts"
    );
    Ok(())
}

/// Bad requests get `EINVAL` (or `ENOSPC` for a write at the end) and change nothing.
pub fn refuses_bad_requests() -> Outcome {
    pattern_checks_first()?;
    let disk = open(0)?;
    let blocks = sectors(DEFAULT_SIZE);
    let read = |sector: u64, count: u32| Bulk {
        kind: BulkKind::ReadDigest,
        sector,
        count,
    };
    for (what, request) in [
        ("bulk read of 0 blocks", read(0, 0)),
        ("bulk read of 257 blocks", read(0, MAX_BULK_SECTORS + 1)),
        ("bulk read past the end", read(blocks - 1, 2)),
        ("bulk read at the end", read(blocks, 1)),
        ("bulk read at an LBA that wraps", read(u64::MAX, 1)),
        ("bulk read far out of range", read(1 << 40, 256)),
    ] {
        expect_errno(what, bulk(&disk, request), EINVAL)?;
    }
    let mut huge = vec![0u8; 20];
    huge[..4].copy_from_slice(b"BULK");
    huge[4] = 9; // no such kind
    expect_errno("bulk call of an unknown kind", disk.call(&huge, 8), EINVAL)?;
    expect_errno("a call of 3 bytes", disk.call(b"abc", 3), EINVAL)?;
    let far = Seek {
        offset: DEFAULT_SIZE + 4096,
    }
    .to_bytes();
    expect_errno("seek past the end", disk.call(&far, 8), EINVAL)?;
    let last = open(DEFAULT_SIZE - 512)?;
    let mut two = [0u8; 1024];
    let count = sys::read(last.descriptor(), &mut two);
    ensure!(
        count == Ok(512),
        "a read across the end gave {count:?}, expected 512 bytes"
    );
    let end = open(DEFAULT_SIZE)?;
    expect_errno(
        "write at the end",
        sys::write(end.descriptor(), &[0u8; 512]),
        ENOSPC,
    )?;
    // Still serving, and the refused requests changed nothing.
    let mut sector = [0u8; SECTOR];
    disk.read_at(512, &mut sector)
        .map_err(|error| format!("read after the refusals: {}", errno_name(error.errno)))?;
    ensure!(pattern_mismatch(1, &sector).is_none(), "block 1 changed");
    Ok(())
}

/// The interface's own refusals (unaligned offsets, lengths, seeks), as for `disk:`.
fn pattern_checks_first() -> Outcome {
    blk_tests::pattern::refuses_unaligned_requests(crate::SCHEME)
}
