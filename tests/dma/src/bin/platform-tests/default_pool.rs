//! The global (default) coherent pool: who it serves and how dmad shows it.

use crate::{OFFSET_DEVICE, POOLLESS_DEVICE, TEST_DEVICE_OFFSET};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use dma_tests::buffer::Buffer;
use dma_tests::pools::{self, PoolRow};
use dma_tests::text::{read_text, value_of};
use dma_tests::translate::{self, Translation};
use dma_tests::PAGE_SIZE;
use process_tests::check::{errno_name, expect_ending, expect_ok, Outcome};
use process_tests::child;
use process_tests::ensure;
use userlib::sys::{self, Ending};

const STRANGER: &str = "/bin/dma-stranger";

/// The rows of `dma:/`.
fn table() -> Result<(String, Vec<PoolRow>), String> {
    let text =
        read_text("dma:/").map_err(|error| format!("read dma:/: {}", errno_name(error.errno)))?;
    let rows = pools::parse(&text);
    Ok((text, rows))
}

/// The one default pool of `dma:/`.
fn default_row() -> Result<PoolRow, String> {
    let (text, rows) = table()?;
    let defaults: Vec<&PoolRow> = rows.iter().filter(|row| row.default).collect();
    ensure!(
        defaults.len() == 1,
        "dma:/ shows {} default pools, expected 1:\n{text}",
        defaults.len()
    );
    Ok(defaults[0].clone())
}

/// [`POOLLESS_DEVICE`] gets a buffer whose physical pages lie in the default pool, at the
/// pool's device address plus the same offset, and its stats name the default pool.
pub fn device_without_pool_uses_the_default_pool() -> Outcome {
    let pid = expect_ok("getpid", sys::getpid())?;
    let pool = default_row()?;
    let buffer = expect_ok(
        "alloc of dma-test1",
        Buffer::allocate(POOLLESS_DEVICE, PAGE_SIZE),
    )?;
    let mapping = expect_ok("fmap of the buffer", buffer.map_all())?;
    let physical = match translate::query(pid, mapping.address())? {
        Translation::Mapped { physical, .. } => physical,
        Translation::Unmapped => return Err("the buffer's mapping is missing".into()),
    };
    ensure!(
        pool.holds(physical, PAGE_SIZE as u64),
        "dma-test1's buffer is at physical {physical:#x}, outside the default pool {} \
         ({:#x}, {} KiB)",
        pool.name,
        pool.physical,
        pool.size / 1024
    );
    let device_address = buffer.info().device_address;
    let expected = pool.device_address + (physical - pool.physical);
    ensure!(
        device_address == expected,
        "device address {device_address:#x}, expected {expected:#x} from the default pool"
    );
    mapping.expect("the new dma-test1 buffer", |_| 0)?;
    let path = format!("dma:/{POOLLESS_DEVICE}/stats");
    let stats =
        read_text(&path).map_err(|error| format!("read {path}: {}", errno_name(error.errno)))?;
    let served_by = value_of(&stats, "served-by");
    ensure!(
        served_by == Some(pool.name.as_str())
            && stats.contains(&format!("served-by {} default", pool.name)),
        "{path} does not say the default pool {} serves it:\n{stats}",
        pool.name
    );
    ensure!(
        value_of(&stats, "live-buffers").is_some_and(|count| count != "0"),
        "{path} shows no live buffer while one is held:\n{stats}"
    );
    Ok(())
}

/// `dma:/` lists [`OFFSET_DEVICE`]'s own pool at device address = physical + offset, and
/// exactly one default pool.
pub fn pool_table_shows_device_addresses_and_the_default() -> Outcome {
    let (text, rows) = table()?;
    let own = rows
        .iter()
        .find(|row| row.device == OFFSET_DEVICE)
        .ok_or_else(|| format!("dma:/ has no pool for {OFFSET_DEVICE}:\n{text}"))?;
    ensure!(
        !own.default,
        "{OFFSET_DEVICE}'s own pool is marked default:\n{text}"
    );
    ensure!(
        own.device_address == own.physical + TEST_DEVICE_OFFSET,
        "{}: device address {:#x}, expected physical {:#x} + {TEST_DEVICE_OFFSET:#x}:\n{text}",
        own.name,
        own.device_address,
        own.physical
    );
    ensure!(
        rows.iter().all(|row| row.device != POOLLESS_DEVICE),
        "{POOLLESS_DEVICE} should have no pool of its own:\n{text}"
    );
    default_row()?;
    Ok(())
}

/// A process the manifest does not grant [`POOLLESS_DEVICE`] gets `EACCES`, even though
/// the device is served by the default pool.
pub fn ungranted_process_gets_eacces_from_the_default_pool() -> Outcome {
    let ending = child::run(STRANGER, &["alloc", POOLLESS_DEVICE])?;
    expect_ending(
        "dma-stranger alloc dma-test1 (expects EACCES)",
        ending,
        Ending::Exited(0),
    )
}
