//! Turning an allocation request's bytes into a page order and an alignment order.

use crate::{PoolError, PAGE_SHIFT, PAGE_SIZE};

/// A validated request: `2^order` pages whose device address is aligned to
/// `2^align_order` pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BufferRequest {
    /// log2 of the page count.
    pub(crate) order: u32,
    /// log2 of the alignment in pages; at least `order`.
    pub(crate) align_order: u32,
}

impl BufferRequest {
    /// Rounds `size_bytes` up to a power-of-two page count, like Linux's `get_order` (the
    /// rounded byte count must fit in a `u64`), and checks it against a pool of `pool_pages`
    /// pages. `align_bytes` of `None` means aligned to the buffer's size; an explicit
    /// alignment smaller than that changes nothing.
    pub(crate) fn new(
        size_bytes: u64,
        align_bytes: Option<u64>,
        pool_pages: u64,
    ) -> Result<Self, PoolError> {
        if size_bytes == 0 {
            return Err(PoolError::InvalidRequest("size is zero"));
        }
        let rounded = size_bytes
            .div_ceil(PAGE_SIZE)
            .next_power_of_two()
            .checked_mul(PAGE_SIZE)
            .ok_or(PoolError::InvalidRequest("size overflows"))?
            / PAGE_SIZE;
        if rounded > pool_pages {
            return Err(PoolError::InvalidRequest("size exceeds the pool"));
        }
        let order = rounded.trailing_zeros();
        let align_order = match align_bytes {
            None => order,
            Some(align) if !align.is_power_of_two() => {
                return Err(PoolError::InvalidRequest("alignment is not a power of two"));
            }
            Some(align) => order.max(align.trailing_zeros().saturating_sub(PAGE_SHIFT)),
        };
        Ok(BufferRequest { order, align_order })
    }

    /// Pages the buffer takes.
    pub(crate) fn pages(&self) -> u64 {
        1 << self.order
    }
}
