//! What an arch crate supplies: the bits of leaf and table entries.

use super::EncodeError;
use crate::PageFlags;

/// One CPU's page-table entry format, for the shared 4-level, 512-entry, 4 KiB-granule shape.
///
/// Levels are numbered from the root: 0 is the root (x86 PML4, aarch64 L0), 3 the last (x86
/// PT, aarch64 L3). Leaves may sit at levels 1 (1 GiB), 2 (2 MiB) and 3 (4 KiB). All
/// functions are pure; implementations are plain marker types.
pub trait PageTableFormat {
    /// The leaf entry mapping `physical` with `flags` at `level` (1 to 3).
    fn encode_leaf(physical: u64, flags: PageFlags, level: usize) -> Result<u64, EncodeError>;

    /// A table entry pointing at the next-level table at `physical`, restricting nothing (each
    /// leaf alone decides its rights).
    fn encode_table(physical: u64) -> u64;

    /// The page's physical address and flags, if `entry` is a present leaf at `level`.
    ///
    /// Flags read back through the CPU's own encoding, so they may differ from the flags that
    /// were encoded where the CPU cannot tell them apart (x86 reads `Device` as `Uncached`).
    fn decode_leaf(entry: u64, level: usize) -> Option<(u64, PageFlags)>;

    /// The next table's physical address, if `entry` at `level` points to a table.
    fn table_address(entry: u64, level: usize) -> Option<u64>;

    /// Whether the CPU would use `entry` at all (x86 P, aarch64 valid).
    fn is_present(entry: u64) -> bool;
}
