//! `disk-demo`: shows both block drivers at work on the default image's two disks: the
//! virtio block driver's `disk:` and the NVMe driver's `nvme:` (the same interface).
//!
//! For each it reads `SCHEME:/size` and the header sector (`coherent-disk v1 SIZE`, written
//! by `cargo xtask`), checks the known pattern on the 64 sectors after it, writes a marker
//! into sector [`MARKER_SECTOR`] and reads it back, and prints one line of what happened,
//! ending with how the driver learns of completions (`SCHEME:/status`: its mode, and
//! interrupts taken against completions — both drivers run interrupt-driven); then it runs `/bin/dmastat` so the pools' tables show both drivers' buffers. Exit status
//! 0 when every check passed, 1 otherwise.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec;
use core::time::Duration;
use disk_api::image::{pattern_mismatch, read_header};
use disk_api::SECTOR_SIZE;
use disk_client::{wait_for_scheme, Disk};
use userlib::{println, sys, Args};

userlib::entry!(main);

/// How many pattern sectors are checked.
const CHECKED_SECTORS: u64 = 64;

/// The sector the demo writes.
const MARKER_SECTOR: u64 = 100;

/// The disks shown: scheme and the driver behind it.
const DISKS: [(&str, &str); 2] = [("disk", "virtio-blk"), ("nvme", "nvme")];

fn main(_args: Args) -> i32 {
    let mut status = 0;
    for (scheme, driver) in DISKS {
        match demo(scheme) {
            Ok(story) => println!("disk-demo: {scheme}: ({driver}) {story}"),
            Err(reason) => {
                println!("disk-demo: {scheme}: ({driver}) {reason}");
                status = 1;
            }
        }
    }
    match sys::spawn("/bin/dmastat", &[]).and_then(|pid| sys::waitpid(pid, false)) {
        Ok(_) => status,
        Err(error) => {
            println!("disk-demo: cannot run /bin/dmastat: {error}");
            1
        }
    }
}

fn demo(scheme: &str) -> Result<String, String> {
    let size = wait_for_scheme(scheme, Duration::from_secs(5))
        .map_err(|error| alloc::format!("no {scheme}: ({error})"))?;
    let disk = Disk::open_on(scheme, 0)
        .map_err(|error| alloc::format!("cannot open {scheme}: ({error})"))?;
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
        "{} MiB disk; read {CHECKED_SECTORS} sectors, pattern ok; wrote sector {MARKER_SECTOR} and read it back; {}",
        size >> 20,
        completions(scheme)
    ))
}

/// `interrupt-driven (N interrupts, M completions, P polled)`, from `SCHEME:/status`.
fn completions(scheme: &str) -> String {
    use disk_api::status::{number, value};
    let Some(text) = sys::read_file(&alloc::format!("{scheme}:/status"))
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
    else {
        return alloc::format!("no {scheme}:/status");
    };
    let count = |key| number(&text, key).unwrap_or(0);
    alloc::format!(
        "{}-driven ({} interrupts, {} completions, {} polled)",
        value(&text, "mode").unwrap_or("unknown"),
        count("interrupts"),
        count("completions"),
        count("polled")
    )
}
