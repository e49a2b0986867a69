//! Why a device tree, or one node in it, was rejected.

use core::fmt;

/// A device tree blob whose header or structure is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlatformError {
    /// Byte offset from the start of the blob where the problem was found.
    pub offset: usize,
    /// What is wrong there.
    pub reason: &'static str,
}

impl PlatformError {
    /// An error at `offset` for `reason`.
    pub const fn new(offset: usize, reason: &'static str) -> Self {
        Self { offset, reason }
    }
}

impl fmt::Display for PlatformError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "device tree byte {}: {}",
            self.offset, self.reason
        )
    }
}

/// One node that could not be read as a pool (or a device link that points nowhere).
///
/// The kernel logs it, skips the node and goes on with the rest of the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolNodeError<'a> {
    /// The node's name, e.g. `dma-pool@50000000` or `virtio_mmio@a003e00`.
    pub node: &'a str,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for PoolNodeError<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "device tree node {}: {}", self.node, self.reason)
    }
}
