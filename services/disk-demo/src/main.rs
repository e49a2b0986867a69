//! `disk-demo`: shows the virtio block driver at work on the default image's disk.
//!
//! It reads `disk:/size` and the header sector (`coherent-disk v1 SIZE`, written by
//! `cargo xtask`), checks the known pattern on the 64 sectors after it, writes a marker into
//! sector [`MARKER_SECTOR`] and reads it back, prints one line of what happened, and then
//! runs `/bin/dmastat` so the pool's tables show the driver's buffers. Exit status 0 when
//! every check passed, 1 otherwise.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec;
use core::time::Duration;
use disk_api::image::{pattern_mismatch, read_header};
use disk_api::SECTOR_SIZE;
use disk_client::{wait_for_disk, Disk};
use userlib::{println, sys, Args};

userlib::entry!(main);

/// How many pattern sectors are checked.
const CHECKED_SECTORS: u64 = 64;

/// The sector the demo writes.
const MARKER_SECTOR: u64 = 100;

fn main(_args: Args) -> i32 {
    let status = match demo() {
        Ok(story) => {
            println!("disk-demo: {story}");
            0
        }
        Err(reason) => {
            println!("disk-demo: {reason}");
            1
        }
    };
    match sys::spawn("/bin/dmastat", &[]).and_then(|pid| sys::waitpid(pid, false)) {
        Ok(_) => status,
        Err(error) => {
            println!("disk-demo: cannot run /bin/dmastat: {error}");
            1
        }
    }
}

fn demo() -> Result<String, String> {
    let size = wait_for_disk(Duration::from_secs(5))
        .map_err(|error| alloc::format!("no disk: ({error})"))?;
    let disk = Disk::open(0).map_err(|error| alloc::format!("cannot open disk: ({error})"))?;
    let sector = SECTOR_SIZE as usize;
    let mut bytes = vec![0u8; sector * (1 + CHECKED_SECTORS as usize)];
    disk.read_at(0, &mut bytes)
        .map_err(|error| alloc::format!("cannot read the first sectors: {error}"))?;
    match read_header(&bytes[..sector]) {
        Some(stated) if stated == size => {}
        Some(stated) => {
            return Err(alloc::format!(
                "the header says {stated} bytes, the disk has {size}"
            ))
        }
        None => return Err("sector 0 is not a coherent-disk v1 header".into()),
    }
    for (index, data) in bytes.chunks(sector).enumerate().skip(1) {
        if let Some(at) = pattern_mismatch(index as u64, data) {
            return Err(alloc::format!(
                "sector {index} breaks the pattern at byte {at}"
            ));
        }
    }
    let mut marker = vec![0u8; sector];
    let text = alloc::format!("disk-demo was here (pid {})", sys::getpid().unwrap_or(0));
    marker[..text.len()].copy_from_slice(text.as_bytes());
    disk.write_at(MARKER_SECTOR * SECTOR_SIZE, &marker)
        .map_err(|error| alloc::format!("cannot write sector {MARKER_SECTOR}: {error}"))?;
    let mut back = vec![0u8; sector];
    disk.read_at(MARKER_SECTOR * SECTOR_SIZE, &mut back)
        .map_err(|error| alloc::format!("cannot read sector {MARKER_SECTOR} back: {error}"))?;
    if back != marker {
        return Err(alloc::format!(
            "sector {MARKER_SECTOR} did not read back as written"
        ));
    }
    Ok(alloc::format!(
        "{} MiB disk; read {CHECKED_SECTORS} sectors, pattern ok; wrote sector {MARKER_SECTOR} and read it back",
        size >> 20
    ))
}
