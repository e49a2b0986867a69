//! Every DMA buffer of the driver is in the NVMe controller's own pool.

use crate::driver::{info, DEVICE, DRIVER};
use alloc::format;
use alloc::vec::Vec;
use dma_tests::text::{number, read_text};
use dma_tests::{pools, stats};
use process_tests::check::{errno_name, Outcome};
use process_tests::ensure;

/// The buffers the driver must list: admin and I/O queue pairs, identify page, PRP list,
/// data buffer.
const BUFFERS: [&str; 7] = [
    "admin-submission",
    "admin-completion",
    "io-submission",
    "io-completion",
    "identify",
    "prp-list",
    "data",
];

/// The driver's `buffer NAME ADDRESS BYTES` lines all lie in `nvme0`'s pool, and dmad
/// counts exactly that many live buffers there, owned by the driver.
pub fn buffers_come_from_the_pool() -> Outcome {
    let pid = DRIVER.pid().ok_or("no driver was started")?;
    let text = info()?;
    let listed: Vec<(&str, u64, u64)> = text
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["buffer", name, address, bytes] => Some((*name, number(address)?, number(bytes)?)),
                _ => None,
            }
        })
        .collect();
    for name in BUFFERS {
        ensure!(
            listed.iter().any(|(listed, _, _)| *listed == name),
            "the driver lists no `{name}` buffer:\n{text}"
        );
    }
    let table =
        read_text("dma:/").map_err(|error| format!("read dma:/: {}", errno_name(error.errno)))?;
    let pool = pools::parse(&table)
        .into_iter()
        .find(|pool| pool.device == DEVICE)
        .ok_or(format!("dma:/ has no pool for {DEVICE}:\n{table}"))?;
    for (name, address, bytes) in &listed {
        let inside = *address >= pool.device_address
            && address
                .checked_add(*bytes)
                .is_some_and(|end| end <= pool.device_address + pool.size);
        ensure!(
            inside,
            "buffer {name} at {address:#x}+{bytes:#x} is outside pool {} ({:#x}+{:#x})",
            pool.name,
            pool.device_address,
            pool.size
        );
    }
    let now = stats::read(DEVICE)?;
    ensure!(
        now.live_buffers == listed.len() as u64,
        "dmad counts {} live buffers in {DEVICE}'s pool, the driver lists {}",
        now.live_buffers,
        listed.len()
    );
    let path = stats::path(DEVICE);
    let owners =
        read_text(&path).map_err(|error| format!("read {path}: {}", errno_name(error.errno)))?;
    let pid_text = format!("{pid}");
    ensure!(
        owners
            .lines()
            .any(|line| line.split_whitespace().next() == Some(pid_text.as_str())),
        "{path} does not list the driver (pid {pid}) as an owner:\n{owners}"
    );
    Ok(())
}
