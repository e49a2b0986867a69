//! Turning an allocation request's bytes and constraints into a page order, an alignment
//! order and an address limit.
//!
//! # Constraints
//!
//! An allocation may carry, besides its size ([`AllocConstraints`]):
//!
//! - an **alignment** (a power of two): the device address is a multiple of it;
//! - a **mask** (`dma_set_mask`): the highest device address the device can reach, of the
//!   form `2^n - 1` (`DMA_BIT_MASK(n)`); the whole buffer lies at or below it;
//! - a **boundary** (`dma_pool_create`'s `boundary`, a power of two): the buffer does not
//!   cross a multiple of it.
//!
//! Buffers are a power-of-two number of pages aligned to their size, so a buffer never
//! crosses a boundary at least its size: a boundary smaller than the rounded size is
//! impossible (`EINVAL`), any other is met by construction (and checked on the result). A
//! mask that no aligned run of the pool can satisfy (the pool lies above it, or too little
//! of it lies below) is impossible too (`EINVAL`); a mask that could be met but is not right
//! now is `ENOMEM`. See [`Pool::allocate`](crate::Pool) for how a mask is honoured.

use crate::{PoolError, PAGE_SHIFT, PAGE_SIZE};

/// What an allocation must satisfy besides its size. `Default` is no constraint at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllocConstraints {
    /// A larger alignment of the device address than the buffer's size (a power of two).
    pub align: Option<u64>,
    /// The highest device address the device can reach: `2^n - 1`, at least a page.
    pub mask: Option<u64>,
    /// A power of two the buffer must not cross a multiple of.
    pub boundary: Option<u64>,
}

impl AllocConstraints {
    /// Only an alignment, the way [`PoolRegistry::alloc`](crate::PoolRegistry::alloc) takes it.
    pub fn aligned(align: Option<u64>) -> Self {
        AllocConstraints {
            align,
            ..AllocConstraints::default()
        }
    }
}

/// A validated request: `2^order` pages whose device address is aligned to
/// `2^align_order` pages, wholly at or below `mask` if one is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BufferRequest {
    /// log2 of the page count.
    pub(crate) order: u32,
    /// log2 of the alignment in pages; at least `order`.
    pub(crate) align_order: u32,
    /// The highest device address the buffer may cover, if limited.
    pub(crate) mask: Option<u64>,
    /// The boundary the buffer must not cross (already checked to be at least its size).
    pub(crate) boundary: Option<u64>,
}

impl BufferRequest {
    /// Rounds `size_bytes` up to a power-of-two page count, like Linux's `get_order` (the
    /// rounded byte count must fit in a `u64`), and checks it and `constraints` against a
    /// pool whose page count is at least `2^pool_max_order` and below twice that. An alignment of `None` means aligned to the buffer's
    /// size; an explicit alignment smaller than that changes nothing.
    #[inline(always)]
    pub(crate) fn new(
        size_bytes: u64,
        constraints: AllocConstraints,
        pool_max_order: u32,
    ) -> Result<Self, PoolError> {
        if size_bytes == 0 {
            return Err(PoolError::InvalidRequest("size is zero"));
        }
        // The order of the power-of-two page count holding the bytes: ceil(log2(pages)),
        // without branches (pages - 1 == 0 gives order 0).
        let order = u64::BITS - (size_bytes.div_ceil(PAGE_SIZE) - 1).leading_zeros();
        // One comparison on the way: the largest order that fits a pool (2^32 pages) is far
        // below the first whose bytes overflow a u64.
        if order > pool_max_order {
            return Err(PoolError::InvalidRequest(
                if order >= u64::BITS - PAGE_SHIFT {
                    "size overflows"
                } else {
                    "size exceeds the pool"
                },
            ));
        }
        let rounded = 1u64 << order;
        let align_order = match constraints.align {
            None => order,
            Some(align) if !align.is_power_of_two() => {
                return Err(PoolError::InvalidRequest("alignment is not a power of two"));
            }
            Some(align) => order.max(align.trailing_zeros().saturating_sub(PAGE_SHIFT)),
        };
        if let Some(mask) = constraints.mask {
            if mask < PAGE_SIZE - 1 || (mask != u64::MAX && !(mask + 1).is_power_of_two()) {
                return Err(PoolError::InvalidRequest(
                    "mask is not 2^n - 1 of at least a page",
                ));
            }
        }
        if let Some(boundary) = constraints.boundary {
            if !boundary.is_power_of_two() {
                return Err(PoolError::InvalidRequest("boundary is not a power of two"));
            }
            if boundary < rounded << PAGE_SHIFT {
                return Err(PoolError::InvalidRequest(
                    "boundary is smaller than the buffer",
                ));
            }
        }
        Ok(BufferRequest {
            order,
            align_order,
            mask: constraints.mask,
            boundary: constraints.boundary,
        })
    }

    /// Pages the buffer takes.
    #[inline]
    pub(crate) fn pages(&self) -> u64 {
        1 << self.order
    }

    /// Whether a buffer at `device_address` meets every constraint.
    pub(crate) fn admits(&self, device_address: u64) -> bool {
        let bytes = self.pages() << PAGE_SHIFT;
        let last = device_address + (bytes - 1);
        device_address.is_multiple_of(1 << (self.align_order + PAGE_SHIFT))
            && self.mask.is_none_or(|mask| last <= mask)
            && self
                .boundary
                .is_none_or(|boundary| device_address / boundary == last / boundary)
    }
}
