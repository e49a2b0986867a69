//! dmad's pool table, `dma:/`: one row per pool after a header line.
//!
//! Columns: `pool device physical device-address size-KiB free-pages largest-free-run
//! live-buffers kind`, `kind` being `default` for the global pool and `own` otherwise. Rows
//! that do not have these columns are skipped.

use crate::text::number;
use alloc::string::String;
use alloc::vec::Vec;

/// One pool as `dma:/` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolRow {
    /// The pool's name.
    pub name: String,
    /// The device it is kept under.
    pub device: String,
    /// Physical address of its first byte.
    pub physical: u64,
    /// Its devices' address for that byte.
    pub device_address: u64,
    /// Its size in bytes.
    pub size: u64,
    /// Whether it is the global (default) pool.
    pub default: bool,
}

impl PoolRow {
    /// Whether `[physical, physical + size)` lies inside the pool.
    pub fn holds(&self, physical: u64, size: u64) -> bool {
        physical >= self.physical
            && physical
                .checked_add(size)
                .is_some_and(|end| end <= self.physical + self.size)
    }
}

/// Reads every well-formed row of a `dma:/` text.
pub fn parse(text: &str) -> Vec<PoolRow> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            if columns.len() != 9 {
                return None;
            }
            Some(PoolRow {
                name: columns[0].into(),
                device: columns[1].into(),
                physical: number(columns[2])?,
                device_address: number(columns[3])?,
                size: number(columns[4])?.checked_mul(1024)?,
                default: match columns[8] {
                    "default" => true,
                    "own" => false,
                    _ => return None,
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_with_their_kind() {
        let text = "pool device physical device-address size-KiB free-pages largest-free-run live-buffers kind\n\
            dma-test0-pool dma-test0 0x47e00000 0x147e00000 1024 256 256 0 own\n\
            global (default) 0x47d00000 0x47d00000 1024 255 128 1 default\n\
            short line\n";
        let rows = parse(text);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].device_address - rows[0].physical, 0x1_0000_0000);
        assert_eq!(rows[0].size, 0x10_0000);
        assert!(!rows[0].default && rows[1].default);
        assert_eq!(rows[1].device, "(default)");
        assert!(rows[1].holds(0x47d0_0000, 0x1000));
        assert!(!rows[1].holds(0x47df_f000, 0x2000));
    }
}
