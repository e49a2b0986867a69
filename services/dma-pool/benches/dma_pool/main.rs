//! `cargo bench -p dma-pool`: the pool against a faithful port of Linux's bitmap search, in
//! one process, on identical pool states and request streams.
//!
//! For pools of 16 MiB, 256 MiB and 4 GiB, each empty and ~50% occupied with a fragmented
//! pattern, it measures nanoseconds per alloc+free pair (allocate a buffer of a random order
//! 0..=8, free it at once; a refused allocation counts as a pair), prints a table, and writes
//! `target/bench/dma-pool.json`.
//!
//! Three columns per row:
//! - `pool_ns`: the whole [`PoolRegistry`] path dmad calls: device lookup, request checks,
//!   owner quota, buffer table with generation-checked handles and per-chunk start lists,
//!   release by handle with owner check. Linux does that bookkeeping only with
//!   `CONFIG_DMA_API_DEBUG`, which the baseline leaves out.
//! - `core_ns`: the pool's free-space allocator alone ([`PageAllocator`]): find and mark an
//!   aligned run, clear it, the same work as the baseline.
//! - `bitmap_ns`: the Linux port (`linux_bitmap.rs`).
//!
//! Timing: each figure is the median of [`ROUNDS`] rounds of about [`ROUND`] each (after an
//! untimed warm-up round), and a row's three columns take their rounds in turn (pool, core,
//! bitmap, pool, ...). The development machine is shared, so other processes' bursts of load
//! land on single rounds of every column instead of on one column's whole measurement, and
//! the median drops them; no column gets a different statistic from another.
//!
//! Then small-block rows (`blocks.rs`, `target/bench/dma-pool-blocks.json`): ns per
//! alloc+free pair of a [`dma_pool::blocks::BlockPool`] block, beside an order-0 page pair
//! on the registry and on the bitmap.

mod blocks;
mod linux_bitmap;
mod output;
mod scenario;

use std::hint::black_box;
use std::time::{Duration, Instant};

use dma_pool::{PageAllocator, PoolRegistry, PAGE_SIZE};
use linux_bitmap::LinuxCoherentPool;
use scenario::{build_core, build_linux, build_registry, request_orders, Occupancy, DEVICE, OWNER};

/// Timed rounds per figure; the figure is their median.
const ROUNDS: usize = 25;
/// How long one round runs.
const ROUND: Duration = Duration::from_millis(16);
/// Pairs per timing batch (the clock is read between batches).
const BATCH: usize = 64;

/// One small-block row.
pub struct BlockRow {
    pub block_bytes: u64,
    pub boundary: u64,
    /// Fraction of the pool's blocks held while measuring.
    pub held: f64,
    pub block_ns: f64,
    pub page_pool_ns: f64,
    pub page_bitmap_ns: f64,
}

/// One row of results.
pub struct Row {
    pub pool_bytes: u64,
    pub occupancy: f64,
    pub pool_ns: f64,
    pub core_ns: f64,
    pub bitmap_ns: f64,
    pub success_rate: f64,
}

fn main() {
    let orders = request_orders();
    let mut rows = Vec::new();
    for pool_bytes in [16u64 << 20, 256 << 20, 4 << 30] {
        for occupancy in [Occupancy::Empty, Occupancy::Fragmented] {
            let pages = pool_bytes / PAGE_SIZE;
            let mut registry = build_registry(pages, occupancy);
            let mut linux = build_linux(pages, occupancy);
            let mut core = build_core(pages, occupancy);
            let used = registry.pool_for_device(DEVICE).unwrap().used_pages();
            assert_eq!(
                used,
                linux.used_pages(),
                "the two pools start in different states"
            );
            let success_rate = verify_same_answers(&mut registry, &mut linux, &orders);
            verify_core_answers(&mut core, &mut linux, &orders);
            let mut pool =
                Column::new(|index| pool_pair(&mut registry, orders[index % orders.len()]));
            let mut core_column =
                Column::new(|index| core_pair(&mut core, orders[index % orders.len()]));
            let mut bitmap =
                Column::new(|index| linux_pair(&mut linux, orders[index % orders.len()]));
            for _ in 0..=ROUNDS {
                pool.round();
                core_column.round();
                bitmap.round();
            }
            let (pool_ns, core_ns, bitmap_ns) =
                (pool.median(), core_column.median(), bitmap.median());
            registry.check_invariants().unwrap();
            core.check().unwrap();
            rows.push(Row {
                pool_bytes,
                occupancy: used as f64 / pages as f64,
                pool_ns,
                core_ns,
                bitmap_ns,
                success_rate,
            });
            output::print_row(rows.last().unwrap(), rows.len() == 1);
        }
    }
    output::write_json(&rows);
    let block_rows = blocks::rows();
    for (index, row) in block_rows.iter().enumerate() {
        output::print_block_row(row, index == 0);
    }
    output::write_block_json(&block_rows);
}

/// One alloc+free pair on the pool; returns whether the allocation succeeded.
fn pool_pair(registry: &mut PoolRegistry, order: u32) -> bool {
    match registry.alloc(DEVICE, PAGE_SIZE << order, None, OWNER, &mut |_, _| {}) {
        Ok(allocation) => {
            black_box(
                registry
                    .release(black_box(allocation.handle), OWNER)
                    .is_ok(),
            );
            true
        }
        Err(_) => false,
    }
}

/// One alloc+free pair on the pool's free-space allocator alone.
fn core_pair(core: &mut PageAllocator, order: u32) -> bool {
    match core.allocate(order, order) {
        Some(page) => {
            core.release(black_box(page), order);
            true
        }
        None => false,
    }
}

/// One alloc+free pair on Linux's bitmap.
fn linux_pair(linux: &mut LinuxCoherentPool, order: u32) -> bool {
    match linux.alloc(PAGE_SIZE << order) {
        Some((_, device_address)) => {
            linux.release(order, black_box(device_address));
            true
        }
        None => false,
    }
}

/// Runs both allocators over part of the request stream and checks they succeed and fail on
/// the same requests (both are exact and both pools return to the same free set after each
/// pair, so they must); returns the fraction of requests that succeeded. Addresses may
/// differ: the pool keeps a spare chunk and prefers small free blocks, Linux takes the first
/// fit.
fn verify_same_answers(
    registry: &mut PoolRegistry,
    linux: &mut LinuxCoherentPool,
    orders: &[u32],
) -> f64 {
    let mut successes = 0;
    for &order in orders.iter().take(1024) {
        let ours = registry.alloc(DEVICE, PAGE_SIZE << order, None, OWNER, &mut |_, _| {});
        let theirs = linux.alloc(PAGE_SIZE << order);
        assert_eq!(
            ours.is_ok(),
            theirs.is_some(),
            "the allocators disagree on an order-{order} request"
        );
        if let (Ok(allocation), Some((_, device_address))) = (ours, theirs) {
            assert_eq!(allocation.device_address % (PAGE_SIZE << order), 0);
            registry.release(allocation.handle, OWNER).unwrap();
            linux.release(order, device_address);
            successes += 1;
        }
    }
    successes as f64 / orders.len().min(1024) as f64
}

/// As [`verify_same_answers`], for the free-space allocator alone.
fn verify_core_answers(core: &mut PageAllocator, linux: &mut LinuxCoherentPool, orders: &[u32]) {
    for &order in orders.iter().take(1024) {
        let ours = core.allocate(order, order);
        let theirs = linux.alloc(PAGE_SIZE << order);
        assert_eq!(
            ours.is_some(),
            theirs.is_some(),
            "the core and Linux disagree on an order-{order} request"
        );
        if let (Some(page), Some((_, device_address))) = (ours, theirs) {
            core.release(page, order);
            linux.release(order, device_address);
        }
    }
}

/// One column's measurement: rounds of `pair(index)`, index running on across rounds.
pub struct Column<F: FnMut(usize) -> bool> {
    pair: F,
    index: usize,
    /// Nanoseconds per pair of each timed round; the first round is the warm-up.
    rounds: Vec<f64>,
    warmed_up: bool,
}

impl<F: FnMut(usize) -> bool> Column<F> {
    pub fn new(pair: F) -> Self {
        Column {
            pair,
            index: 0,
            rounds: Vec::with_capacity(ROUNDS),
            warmed_up: false,
        }
    }

    /// Runs pairs for [`ROUND`]; records nanoseconds per pair unless it is the warm-up.
    /// Never inlined: each column's timing loop is a function of its own, compiled the same
    /// way for every column, rather than one part of `main` among others.
    #[inline(never)]
    pub fn round(&mut self) {
        let start = Instant::now();
        let mut pairs = 0u64;
        while start.elapsed() < ROUND {
            for _ in 0..BATCH {
                black_box((self.pair)(self.index));
                self.index += 1;
            }
            pairs += BATCH as u64;
        }
        let ns = start.elapsed().as_nanos() as f64 / pairs as f64;
        if self.warmed_up {
            self.rounds.push(ns);
        }
        self.warmed_up = true;
    }

    /// The median of the timed rounds.
    pub fn median(&self) -> f64 {
        let mut rounds = self.rounds.clone();
        rounds.sort_by(f64::total_cmp);
        rounds[rounds.len() / 2]
    }
}

/// Median nanoseconds per pair of `pair(index)` over [`ROUNDS`] rounds, after a warm-up
/// round (for figures measured alone).
pub fn measure(pair: impl FnMut(usize) -> bool) -> f64 {
    let mut column = Column::new(pair);
    for _ in 0..=ROUNDS {
        column.round();
    }
    column.median()
}
