//! The text tables `dma:/`, `dma:/DEV/stats` and `dma:/DEV/map` read as.
//!
//! `dma:/` has a header line and one line per pool: `pool device physical device-address
//! size-KiB free-pages largest-free-run live-buffers kind`, kind being `default` for the
//! global pool and `own` for a device's own pool.
//! `DEV/stats` has the same two lines for the pool that serves the device, then `key value`
//! lines: `served-by POOL own|default` (which pool serves DEV, and `default` when that is
//! the global pool, whether DEV falls back to it or it is kept under DEV's name),
//! `cache-type TYPE` (how the pool's pages are mapped: `write-combining`, `write-back`,
//! `uncached`), the pool's other counters (`quarantined-buffers`, `quarantined-pages`: released buffers
//! held back because their device was not confirmed quiet), `quiesce-checked OWNER
//! GENERATION CONFIRMED reused|quarantined` (what dmad checked at the last release of a
//! buffer of DEV; `quiesce-checked none` before any), debug mode's poison and leak lines
//! (`server/debug.rs`), then a table of owners
//! (`pid name pages quota-pages`).

use alloc::string::String;
use core::fmt::Write;
use dma_pool::{OwnerId, Pool, PoolRegistry};

const HEADER: &str = "pool                 device               physical           device-address     size-KiB   free-pages largest-free-run live-buffers kind";

/// Cells per row of `DEV/map`, and the most cells drawn (a larger pool gets several pages
/// per cell).
const MAP_COLUMNS: usize = 64;
const MAP_CELLS: usize = 1024;

/// `DEV/map`: `pool NAME device DEV`, then the pool's page states as a grid
/// (`dma_pool::page_map::render`).
pub(crate) fn map(pool: &Pool) -> String {
    let mut text = alloc::format!("pool {} device {}\n", pool.name(), pool.device());
    text.push_str(&dma_pool::page_map::render(
        &pool.page_states(),
        MAP_COLUMNS,
        MAP_CELLS,
    ));
    text
}

/// The table of every pool.
pub(crate) fn root(registry: &PoolRegistry) -> String {
    let mut text = String::from(HEADER);
    text.push('\n');
    for pool in registry.pools() {
        pool_line(&mut text, registry, pool);
    }
    text
}

/// The pool serving a device in detail; `name_of` names owners dmad knows.
pub(crate) fn device<'a>(
    registry: &PoolRegistry,
    pool: &Pool,
    reclaim: Option<crate::Reclaim>,
    debug_lines: &str,
    name_of: impl Fn(u32) -> Option<&'a str>,
) -> String {
    let mut text = String::from(HEADER);
    text.push('\n');
    pool_line(&mut text, registry, pool);
    let stats = pool.stats();
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "served-by {} {}",
        pool.name(),
        if registry.is_global(pool) {
            "default"
        } else {
            "own"
        }
    );
    let quota =
        |quota: Option<u64>| quota.map_or(String::from("none"), |pages| alloc::format!("{pages}"));
    let _ = writeln!(text, "cache-type {}", pool.cache_type().name());
    let _ = writeln!(text, "pages {}", stats.total_pages);
    let _ = writeln!(text, "free-pages {}", stats.free_pages);
    let _ = writeln!(text, "largest-free-run {}", stats.largest_free_run_pages);
    let _ = writeln!(text, "live-buffers {}", stats.live_buffers);
    let _ = writeln!(
        text,
        "largest-free-block {}",
        stats.largest_free_block_pages
    );
    let _ = writeln!(text, "deferred-buffers {}", stats.deferred_buffers);
    let _ = writeln!(text, "deferred-pages {}", stats.deferred_pages);
    let _ = writeln!(text, "high-water-pages {}", stats.high_water_pages);
    let _ = writeln!(text, "failed-allocations {}", stats.failed_allocations);
    let _ = writeln!(text, "device-quota-pages {}", quota(pool.device_quota()));
    let _ = writeln!(text, "quarantined-buffers {}", stats.quarantined_buffers);
    let _ = writeln!(text, "quarantined-pages {}", stats.quarantined_pages);
    match reclaim {
        Some(reclaim) => {
            let _ = writeln!(
                text,
                "quiesce-checked {} {} {} {}",
                reclaim.owner,
                reclaim.state.generation,
                reclaim.state.confirmed,
                if reclaim.quarantined {
                    "quarantined"
                } else {
                    "reused"
                }
            );
        }
        None => {
            let _ = writeln!(text, "quiesce-checked none");
        }
    }
    text.push_str(debug_lines);
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "{:>8} {:<20} {:>10} {:>12}",
        "pid", "name", "pages", "quota-pages"
    );
    for (OwnerId(pid), pages) in pool.owners() {
        let usage = registry.owner_usage(OwnerId(pid));
        let _ = writeln!(
            text,
            "{pid:>8} {:<20} {pages:>10} {:>12}",
            name_of(pid).unwrap_or("?"),
            quota(usage.quota_pages)
        );
    }
    text
}

fn pool_line(text: &mut String, registry: &PoolRegistry, pool: &Pool) {
    let stats = pool.stats();
    let _ = writeln!(
        text,
        "{:<20} {:<20} {:<18} {:<18} {:>8} {:>12} {:>16} {:>12} {}",
        pool.name(),
        pool.device(),
        alloc::format!("{:#x}", pool.phys_base()),
        alloc::format!("{:#x}", pool.device_base()),
        pool.size_bytes() / 1024,
        stats.free_pages,
        stats.largest_free_run_pages,
        stats.live_buffers,
        if registry.is_global(pool) {
            "default"
        } else {
            "own"
        },
    );
}
