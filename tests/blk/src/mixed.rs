//! 1,000 random reads and writes, each checked against what the disk must hold.
//!
//! The second half of the disk is the scratch area. Each of its sectors has a generation:
//! 0 while it holds the image's pattern, `g` after the `g`th write that covered it (the
//! bytes are then a function of sector and generation), so a read can be checked without
//! keeping the data.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use blk_tests::XorShift;
use disk_api::image::{generation_byte, sectors, DEFAULT_SIZE};
use disk_api::SECTOR_SIZE;
use disk_client::Disk;
use process_tests::check::{errno_name, Outcome};

const REQUESTS: u32 = 1000;
const MOST_SECTORS: u64 = 128;
const SECTOR: usize = SECTOR_SIZE as usize;

/// The 1,000 requests.
pub fn mixed_requests() -> Outcome {
    let first = sectors(DEFAULT_SIZE) / 2;
    let count = sectors(DEFAULT_SIZE) - first;
    let mut generations: Vec<u16> = vec![0; count as usize];
    let mut random = XorShift(0x9E37_79B9_7F4A_7C15);
    let disk = Disk::open(0).map_err(|error| format!("open disk: {}", errno_name(error.errno)))?;
    let mut buffer = vec![0u8; MOST_SECTORS as usize * SECTOR];
    let mut next_generation: u16 = 1;
    for request in 0..REQUESTS {
        let length = 1 + random.next_value() % MOST_SECTORS;
        let start = random.next_value() % (count - length + 1);
        let bytes = &mut buffer[..length as usize * SECTOR];
        let offset = (first + start) * SECTOR_SIZE;
        if random.next_value().is_multiple_of(2) {
            let generation = next_generation;
            next_generation = next_generation.wrapping_add(1).max(1);
            for (index, data) in bytes.chunks_mut(SECTOR).enumerate() {
                fill(first + start + index as u64, generation, data);
                generations[start as usize + index] = generation;
            }
            disk.write_at(offset, bytes).map_err(|error| {
                format!(
                    "request {request}: write {length} sectors at {offset:#x}: {}",
                    errno_name(error.errno)
                )
            })?;
        } else {
            disk.read_at(offset, bytes).map_err(|error| {
                format!(
                    "request {request}: read {length} sectors at {offset:#x}: {}",
                    errno_name(error.errno)
                )
            })?;
            for (index, data) in bytes.chunks(SECTOR).enumerate() {
                let sector = first + start + index as u64;
                let generation = generations[start as usize + index];
                let mut expected = [0u8; SECTOR];
                fill(sector, generation, &mut expected);
                if data != expected {
                    return Err(format!(
                        "request {request}: sector {sector} does not hold generation {generation}"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Sector `sector`'s bytes at `generation`.
fn fill(sector: u64, generation: u16, data: &mut [u8]) {
    for (index, byte) in data.iter_mut().enumerate() {
        *byte = generation_byte(sector, generation, index);
    }
}
