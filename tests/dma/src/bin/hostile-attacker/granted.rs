//! Attacks that need a `dma:` buffer, run by `hostile-attacker` spawned with the
//! `hostile-client` section's rights (the pool's device, nothing else).
//!
//! - `partial-map`: its fmap of a multi-page buffer fails after dmad agreed (`MmapPrep`)
//!   because the machine has no frame left for the page tables the client's side needs. The
//!   kernel must undo every page it mapped and send dmad the balancing `Munmap`; the driver
//!   then finds the pool whole, which it cannot be if dmad still counted the mapping (a
//!   closed buffer that is still mapped stays out of the pool).
//! - `munmap-flood`: thousands of map/unmap pairs and bursts of one-way `Munmap`s and a
//!   `Close`, then an exit holding many mappings (a burst of `Munmap`s from the kernel);
//!   dmad must answer throughout.

use crate::anonymous;
use alloc::format;
use alloc::vec::Vec;
use dma_tests::buffer::{map_raw, Buffer};
use dma_tests::PAGE_SIZE;
use process_tests::check::{errno_name, expect_ok, Outcome};
use process_tests::ensure;
use userlib::sys::{self, error::ENOMEM};

/// The device the `hostile-client` section grants.
const DEVICE: &str = "virtio-blk0";
/// `partial-map`'s buffer: 4 MiB spans at least two 2 MiB page-table blocks, so mapping it
/// at the client's next free address needs at least one new page table however it falls.
const PARTIAL_MAP_SIZE: usize = 4 << 20;
/// Anonymous chunk sizes `partial-map` exhausts memory with, largest first.
const CHUNKS: [usize; 4] = [16 << 20, 1 << 20, 64 << 10, 4 << 10];
/// Pages of `munmap-flood`'s buffer.
const FLOOD_PAGES: usize = 16;
/// Map/unmap pairs in `munmap-flood`.
const FLOOD_PAIRS: usize = 1000;
/// Mappings held at once in `munmap-flood` (dmad allows 256 per process).
const FLOOD_HELD: usize = 200;

/// A multi-page fmap that fails after dmad said yes leaves nothing behind.
pub fn partial_map() -> Outcome {
    let buffer = Buffer::allocate(DEVICE, PARTIAL_MAP_SIZE)
        .map_err(|error| format!("allocate: {}", errno_name(error.errno)))?;
    // Use up the machine's frames, so the next page table cannot be had.
    let mut flood = Vec::new();
    for chunk in CHUNKS {
        while let Ok(address) = anonymous(chunk) {
            if flood.try_reserve(1).is_err() {
                break;
            }
            flood.push((address, chunk));
        }
    }
    let failed = map_raw(buffer.fd(), 0, PARTIAL_MAP_SIZE);
    // Give the memory back before anything else needs it.
    for (address, size) in flood.drain(..) {
        // SAFETY: each range is an anonymous mapping this function made and nothing uses.
        let _ = unsafe { sys::funmap(address, size) };
    }
    match failed {
        Err(error) => ensure!(
            error.errno == ENOMEM,
            "the fmap with no memory left failed with {}, not ENOMEM",
            errno_name(error.errno)
        ),
        Ok(address) => {
            // SAFETY: the mapping just made, unused.
            let _ = unsafe { sys::funmap(address, PARTIAL_MAP_SIZE) };
            return Err(format!(
                "mapping {PARTIAL_MAP_SIZE} bytes with no frame left for page tables worked"
            ));
        }
    }
    // The buffer maps whole now, and unmaps: dmad and the kernel agree on it.
    let address = expect_ok(
        "fmap after the flood",
        map_raw(buffer.fd(), 0, PARTIAL_MAP_SIZE),
    )?;
    // SAFETY: the mapping just made, unused.
    expect_ok("funmap", unsafe { sys::funmap(address, PARTIAL_MAP_SIZE) })?;
    expect_ok("close", buffer.close())?;
    Ok(())
}

/// Floods dmad with one-way `Munmap`s (and a `Close`), then exits holding mappings.
pub fn munmap_flood() -> Outcome {
    let size = FLOOD_PAGES * PAGE_SIZE;
    let buffer = Buffer::allocate(DEVICE, size)
        .map_err(|error| format!("allocate: {}", errno_name(error.errno)))?;
    for pair in 0..FLOOD_PAIRS {
        let offset = (pair % FLOOD_PAGES) * PAGE_SIZE;
        let address = expect_ok(
            &format!("fmap pair {pair}"),
            map_raw(buffer.fd(), offset, PAGE_SIZE),
        )?;
        // SAFETY: the page just mapped, unused.
        expect_ok("funmap", unsafe { sys::funmap(address, PAGE_SIZE) })?;
    }
    let mut held = Vec::new();
    for index in 0..FLOOD_HELD {
        let offset = (index % FLOOD_PAGES) * PAGE_SIZE;
        held.push(expect_ok(
            &format!("fmap held {index}"),
            map_raw(buffer.fd(), offset, PAGE_SIZE),
        )?);
    }
    for address in held.drain(..) {
        // SAFETY: pages this function mapped and does not use.
        let _ = unsafe { sys::funmap(address, PAGE_SIZE) };
    }
    // dmad still answers, with the buffer whole.
    let info = expect_ok("read the descriptor", read_info(buffer.fd()))?;
    ensure!(info > 0, "the descriptor read empty after the flood");
    // Now map it many times again, close the descriptor, and exit still mapping it: the
    // kernel sends dmad every Munmap and the Close, and dmad frees the buffer after the last.
    for index in 0..FLOOD_HELD {
        let offset = (index % FLOOD_PAGES) * PAGE_SIZE;
        expect_ok(
            &format!("fmap before exit {index}"),
            map_raw(buffer.fd(), offset, PAGE_SIZE),
        )?;
    }
    expect_ok("close while mapped", buffer.close())?;
    Ok(())
}

/// Reads the buffer's descriptor; returns how many bytes came.
fn read_info(fd: usize) -> sys::Result<usize> {
    let mut bytes = [0u8; 64];
    sys::read(fd, &mut bytes)
}
