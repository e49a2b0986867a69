//! The benchmark's table on standard output and its JSON file under the workspace target.

use std::path::PathBuf;

use crate::{BlockRow, Row};

/// Prints one table row, with the header first.
pub fn print_row(row: &Row, header: bool) {
    if header {
        println!("dma-pool: ns per alloc+free pair, orders 0..=8 (same requests, same states, one process)");
        println!(
            "{:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9}",
            "pool", "occupied", "succeeded", "pool ns", "core ns", "bitmap ns", "pool x", "core x"
        );
    }
    println!(
        "{:>10} {:>9.1}% {:>9.1}% {:>10.1} {:>10.1} {:>10.1} {:>8.1}x {:>8.1}x",
        size_name(row.pool_bytes),
        row.occupancy * 100.0,
        row.success_rate * 100.0,
        row.pool_ns,
        row.core_ns,
        row.bitmap_ns,
        row.bitmap_ns / row.pool_ns,
        row.bitmap_ns / row.core_ns
    );
}

/// Prints one small-block row, with the header first.
pub fn print_block_row(row: &BlockRow, header: bool) {
    if header {
        println!("small-block pool: ns per alloc+free pair of one block, beside one page pair");
        println!(
            "{:>8} {:>9} {:>8} {:>10} {:>13} {:>15}",
            "block", "boundary", "held", "block ns", "page pool ns", "page bitmap ns"
        );
    }
    println!(
        "{:>6} B {:>9} {:>7.1}% {:>10.1} {:>13.1} {:>15.1}",
        row.block_bytes,
        row.boundary,
        row.held * 100.0,
        row.block_ns,
        row.page_pool_ns,
        row.page_bitmap_ns
    );
}

/// Writes `target/bench/dma-pool-blocks.json`.
pub fn write_block_json(rows: &[BlockRow]) {
    let entries: Vec<String> = rows
        .iter()
        .map(|row| {
            format!(
                "  {{\"block_bytes\": {}, \"boundary\": {}, \"held\": {:.4}, \"block_ns\": {:.2}, \"page_pool_ns\": {:.2}, \"page_bitmap_ns\": {:.2}}}",
                row.block_bytes, row.boundary, row.held, row.block_ns, row.page_pool_ns, row.page_bitmap_ns
            )
        })
        .collect();
    write_file("dma-pool-blocks.json", &entries);
}

/// Writes `target/bench/dma-pool.json` in the workspace's target directory.
pub fn write_json(rows: &[Row]) {
    let entries: Vec<String> = rows
        .iter()
        .map(|row| {
            format!(
                "  {{\"pool_bytes\": {}, \"occupancy\": {:.4}, \"pool_ns\": {:.2}, \"core_ns\": {:.2}, \"bitmap_ns\": {:.2}}}",
                row.pool_bytes, row.occupancy, row.pool_ns, row.core_ns, row.bitmap_ns
            )
        })
        .collect();
    write_file("dma-pool.json", &entries);
}

/// Writes a JSON array of `entries` to `target/bench/NAME`.
fn write_file(name: &str, entries: &[String]) {
    let directory = target_directory().join("bench");
    std::fs::create_dir_all(&directory).expect("create target/bench");
    let path = directory.join(name);
    std::fs::write(&path, format!("[\n{}\n]\n", entries.join(",\n"))).expect("write the JSON");
    println!("wrote {}", path.display());
}

/// `CARGO_TARGET_DIR` if set (relative to the workspace root), else `target/` beside the
/// workspace's `Cargo.lock`, found by walking up from this crate.
fn target_directory() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest
        .ancestors()
        .find(|directory| directory.join("Cargo.lock").exists())
        .unwrap_or(&manifest)
        .to_path_buf();
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(target) => root.join(target),
        None => root.join("target"),
    }
}

/// "16 MiB", "4 GiB".
fn size_name(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{} GiB", bytes >> 30)
    } else {
        format!("{} MiB", bytes >> 20)
    }
}
