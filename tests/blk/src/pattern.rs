//! Whole-disk reads, the range the host checks, and refused requests, on any scheme that
//! serves the `disk:` interface (`disk:` in the `virtio-blk` suite, `nvme:` in `nvme`).

use alloc::format;
use alloc::vec;
use disk_api::image::{
    pattern_mismatch, read_header, sectors, written_byte, DEFAULT_SIZE, WRITTEN_FIRST_SECTOR,
    WRITTEN_SECTORS,
};
use disk_api::{Seek, MAX_TRANSFER, SECTOR_SIZE};
use disk_client::Disk;
use process_tests::check::{errno_name, expect_errno, Outcome};
use process_tests::ensure;
use userlib::sys::error::EINVAL;
use userlib::sys::{self, flag::O_RDWR};
use userlib::syscall::flag::CallFlags;

const SECTOR: usize = SECTOR_SIZE as usize;

fn open(scheme: &str, offset: u64) -> Result<Disk, alloc::string::String> {
    Disk::open_on(scheme, offset)
        .map_err(|error| format!("open {scheme}:/{offset}: {}", errno_name(error.errno)))
}

/// Every sector reads as the image holds it (header, then the pattern; the written range
/// may hold the suite's own pattern from an earlier test).
pub fn reads_every_sector(scheme: &str) -> Outcome {
    let disk = open(scheme, 0)?;
    let mut chunk = vec![0u8; MAX_TRANSFER];
    let per_chunk = (MAX_TRANSFER / SECTOR) as u64;
    let mut sector = 0;
    while sector < sectors(DEFAULT_SIZE) {
        let count = sys::read(disk.descriptor(), &mut chunk)
            .map_err(|error| format!("read at sector {sector}: {}", errno_name(error.errno)))?;
        ensure!(
            count == MAX_TRANSFER,
            "read at sector {sector} gave {count} bytes"
        );
        for (index, data) in chunk.chunks(SECTOR).enumerate() {
            let at = sector + index as u64;
            if at == 0 {
                ensure!(
                    read_header(data) == Some(DEFAULT_SIZE),
                    "sector 0 is not the header"
                );
            } else if let Some(byte) = pattern_mismatch(at, data) {
                return Err(format!("sector {at} byte {byte} is {:#x}", data[byte]));
            }
        }
        sector += per_chunk;
    }
    let end = sys::read(disk.descriptor(), &mut chunk);
    ensure!(
        end == Ok(0),
        "a read at the end of the disk gave {end:?}, expected 0 bytes"
    );
    Ok(())
}

/// The suite's range is rewritten and reads back; the host checks the file afterwards.
pub fn writes_a_range(scheme: &str) -> Outcome {
    let disk = open(scheme, WRITTEN_FIRST_SECTOR * SECTOR_SIZE)?;
    let mut bytes = vec![0u8; (WRITTEN_SECTORS as usize) * SECTOR];
    for (index, data) in bytes.chunks_mut(SECTOR).enumerate() {
        let sector = WRITTEN_FIRST_SECTOR + index as u64;
        for (offset, byte) in data.iter_mut().enumerate() {
            *byte = written_byte(sector, offset);
        }
    }
    disk.write_at(WRITTEN_FIRST_SECTOR * SECTOR_SIZE, &bytes)
        .map_err(|error| format!("write: {}", errno_name(error.errno)))?;
    let mut back = vec![0u8; bytes.len()];
    disk.read_at(WRITTEN_FIRST_SECTOR * SECTOR_SIZE, &mut back)
        .map_err(|error| format!("read back: {}", errno_name(error.errno)))?;
    ensure!(back == bytes, "the range did not read back as written");
    Ok(())
}

/// Offsets and lengths that are not sector multiples are refused and move nothing.
pub fn refuses_unaligned_requests(scheme: &str) -> Outcome {
    let unaligned = format!("{scheme}:/100");
    expect_errno(&unaligned, sys::open(&unaligned, O_RDWR), EINVAL)?;
    let too_far = format!("{scheme}:/{}", DEFAULT_SIZE + 512);
    expect_errno("open past the end", sys::open(&too_far, O_RDWR), EINVAL)?;
    let disk = open(scheme, 0)?;
    let mut short = [0u8; 100];
    expect_errno(
        "read of 100 bytes",
        sys::read(disk.descriptor(), &mut short),
        EINVAL,
    )?;
    expect_errno(
        "write of 100 bytes",
        sys::write(disk.descriptor(), &short),
        EINVAL,
    )?;
    let mut odd = Seek { offset: 700 }.to_bytes();
    let seek = userlib::syscall::call_rw(disk.descriptor(), &mut odd, CallFlags::empty(), &[]);
    expect_errno("seek to 700", seek, EINVAL)?;
    let mut end = open(scheme, DEFAULT_SIZE)?;
    let nothing = sys::read(end.descriptor(), &mut [0u8; 512]);
    ensure!(nothing == Ok(0), "a read at the end gave {nothing:?}");
    let full = sys::write(end.descriptor(), &[0u8; 512]);
    expect_errno("write at the end", full, userlib::sys::error::ENOSPC)?;
    end = open(scheme, 512)?;
    let mut sector = [0u8; SECTOR];
    let count = sys::read(end.descriptor(), &mut sector);
    ensure!(count == Ok(SECTOR), "read of sector 1 gave {count:?}");
    ensure!(
        pattern_mismatch(1, &sector).is_none(),
        "sector 1 breaks the pattern"
    );
    Ok(())
}
