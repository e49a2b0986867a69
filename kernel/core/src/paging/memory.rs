//! What the kernel supplies: access to tables by physical address, and frames for new tables.

/// Reads and writes table entries given a table's physical address.
///
/// The kernel implements it through its linear map of physical memory; host tests through an
/// emulated physical memory.
pub trait PhysicalAccess {
    /// Entry `index` (0 to 511) of the table at physical address `table`.
    fn read_entry(&self, table: u64, index: usize) -> u64;

    /// Sets entry `index` (0 to 511) of the table at physical address `table` to `value`.
    fn write_entry(&mut self, table: u64, index: usize, value: u64);
}

/// Where new tables come from and where empty ones go.
pub trait TableFrames {
    /// The physical address of a zeroed, 4 KiB-aligned 4 KiB frame now owned by the caller,
    /// or `None` when there is none left.
    fn allocate_table(&mut self) -> Option<u64>;

    /// Takes back a frame [`allocate_table`](Self::allocate_table) handed out.
    fn free_table(&mut self, physical: u64);
}
