//! Big-endian cells: reading one- and two-cell numbers and `(address, size)` pairs.

/// Bytes per cell.
pub(crate) const CELL_BYTES: usize = 4;

/// Reads a number of `cells` cells (1 or 2) from the front of `bytes`.
pub(crate) fn read_number(bytes: &[u8], cells: usize) -> Option<u64> {
    match cells {
        1 => Some(u64::from(read_u32(bytes)?)),
        2 => Some(u64::from(read_u32(bytes)?) << 32 | u64::from(read_u32(bytes.get(4..)?)?)),
        _ => None,
    }
}

/// Reads one cell.
pub(crate) fn read_u32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(
        bytes.get(..CELL_BYTES)?.try_into().ok()?,
    ))
}

/// Reads a property holding exactly one 32- or 64-bit number.
pub(crate) fn read_scalar(bytes: &[u8]) -> Option<u64> {
    match bytes.len() {
        4 => read_number(bytes, 1),
        8 => read_number(bytes, 2),
        _ => None,
    }
}

/// Iterator over `(address, size)` pairs with the given cell counts (1 or 2 each).
///
/// Yields nothing if the cell counts are unsupported; check [`Pairs::is_well_formed`] first.
#[derive(Clone, Debug)]
pub(crate) struct Pairs<'a> {
    bytes: &'a [u8],
    address_cells: usize,
    size_cells: usize,
}

impl<'a> Pairs<'a> {
    /// Pairs read from `bytes`.
    pub(crate) fn new(bytes: &'a [u8], address_cells: usize, size_cells: usize) -> Self {
        Self {
            bytes,
            address_cells,
            size_cells,
        }
    }

    fn pair_bytes(&self) -> usize {
        (self.address_cells + self.size_cells) * CELL_BYTES
    }

    /// Whether the cell counts are supported and the bytes hold whole pairs.
    pub(crate) fn is_well_formed(&self) -> bool {
        (1..=2).contains(&self.address_cells)
            && (1..=2).contains(&self.size_cells)
            && self.bytes.len().is_multiple_of(self.pair_bytes())
    }

    /// How many whole pairs there are.
    pub(crate) fn count_pairs(&self) -> usize {
        if self.is_well_formed() {
            self.bytes.len() / self.pair_bytes()
        } else {
            0
        }
    }
}

impl Iterator for Pairs<'_> {
    type Item = (u64, u64);

    fn next(&mut self) -> Option<(u64, u64)> {
        if !self.is_well_formed() || self.bytes.is_empty() {
            return None;
        }
        let address = read_number(self.bytes, self.address_cells)?;
        let size = read_number(
            &self.bytes[self.address_cells * CELL_BYTES..],
            self.size_cells,
        )?;
        self.bytes = &self.bytes[self.pair_bytes()..];
        Some((address, size))
    }
}
