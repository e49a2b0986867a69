//! The driver's DMA buffers are in its device's pool.

use crate::driver::DRIVER;
use alloc::format;
use dma_tests::stats;
use dma_tests::text::read_text;
use process_tests::check::{errno_name, Outcome};
use process_tests::ensure;

/// dmad lists the running driver as the owner of pool pages, and live buffers exist.
pub fn buffers_come_from_the_pool() -> Outcome {
    let pid = DRIVER.pid().ok_or("no driver was started")?;
    let now = stats::read(DRIVER.device)?;
    ensure!(
        now.live_buffers > 0,
        "the driver runs but the pool shows {now}"
    );
    let path = stats::path(DRIVER.device);
    let text =
        read_text(&path).map_err(|error| format!("read {path}: {}", errno_name(error.errno)))?;
    let pages = owner_pages(&text, pid);
    ensure!(
        pages.is_some_and(|pages| pages > 0),
        "{path} does not list pid {pid} as owning pages:\n{text}"
    );
    Ok(())
}

/// The pages the owner table (`pid name pages quota-pages`) gives `pid`.
fn owner_pages(text: &str, pid: usize) -> Option<u64> {
    let pid = format!("{pid}");
    text.lines().find_map(|line| {
        let words: alloc::vec::Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [first, _name, pages, _quota] if *first == pid => pages.parse().ok(),
            _ => None,
        }
    })
}
