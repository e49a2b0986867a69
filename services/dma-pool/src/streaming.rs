//! Streaming DMA bookkeeping (Linux's `dma_map_single` / `dma_map_sg` with swiotlb): which
//! segment of a transfer the device reaches directly and which goes through a bounce
//! buffer, what is copied when, and the small cache of idle bounce buffers.
//!
//! userlib's `dma::streaming` does the memory work (buffers from dmad, copies, barriers);
//! every decision it takes is made here, with no memory access, and tested on the host
//! against simple models (`tests/streaming.rs`).
//!
//! # Direct or bounce
//!
//! On coherent a process's ordinary memory (heap, stack, data) is never in a device's IOMMU
//! domain, and its physical pages are unknown to the driver: it is *not shareable*, so a
//! segment of ordinary memory always bounces through the device's pool (a swiotlb area).
//! A segment lying wholly inside a DMA buffer of *that device's* pool is contiguous, in the
//! domain and known by device address, so it maps directly at the buffer's device address
//! plus the offset — unless the device cannot reach it ([`Reach`]: the device address mask,
//! `dma_set_mask`, and a boundary the segment must not cross), when it bounces too. A
//! segment in another device's pool bounces: that device's domain is not this one's.
//! [`place`] is the rule.
//!
//! # Copies
//!
//! A bounce buffer is filled from the caller's bytes when the mapping is made, in every
//! direction ([`Direction::copies_in`]): for [`Direction::FromDevice`] too, so that bytes the
//! device does not write come back unchanged instead of whatever a reused bounce buffer
//! held before (Linux's swiotlb does the same since its info-leak fix, CVE-2022-0854). The
//! device's bytes are copied back when the mapping ends for [`Direction::FromDevice`] and
//! [`Direction::Bidirectional`] ([`Direction::copies_back`]), never for
//! [`Direction::ToDevice`]. So after unmapping, the caller's memory is exactly what a direct
//! mapping would have left.
//!
//! # Bounce cache
//!
//! [`BounceCache`] keeps up to its limit of idle bounce buffers; [`BounceCache::take`] hands
//! out the smallest one big enough, [`BounceCache::give`] keeps a returned one or hands it
//! back to be released when the cache is full.

use alloc::vec::Vec;

/// Which way data moves in a transfer (Linux's `enum dma_data_direction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The device reads the buffer (`DMA_TO_DEVICE`).
    ToDevice,
    /// The device writes the buffer (`DMA_FROM_DEVICE`).
    FromDevice,
    /// The device may read and write it (`DMA_BIDIRECTIONAL`).
    Bidirectional,
}

impl Direction {
    /// Whether a bounce buffer is filled from the caller's bytes at map time: always (see
    /// the module's "Copies").
    pub fn copies_in(self) -> bool {
        true
    }

    /// Whether the bounce buffer's bytes are copied back to the caller's at unmap time.
    pub fn copies_back(self) -> bool {
        matches!(self, Direction::FromDevice | Direction::Bidirectional)
    }

    /// Whether the device may write the buffer.
    pub fn device_writes(self) -> bool {
        self.copies_back()
    }
}

/// What the device reaches: the highest device address (`2^n - 1`, `DMA_BIT_MASK(n)`) and
/// a power of two no segment may cross a multiple of (0: none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reach {
    /// The highest device address the device can use.
    pub mask: u64,
    /// A power of two a segment must not cross a multiple of; 0 for none.
    pub boundary: u64,
}

impl Default for Reach {
    fn default() -> Self {
        Reach {
            mask: u64::MAX,
            boundary: 0,
        }
    }
}

impl Reach {
    /// Whether the device can use `length > 0` bytes at `device_address` as one segment.
    pub fn reaches(&self, device_address: u64, length: u64) -> bool {
        let Some(last) = length
            .checked_sub(1)
            .and_then(|extra| device_address.checked_add(extra))
        else {
            return false;
        };
        let below_mask = last <= self.mask;
        let within_boundary =
            self.boundary == 0 || device_address / self.boundary == last / self.boundary;
        below_mask && within_boundary
    }
}

/// A DMA buffer the caller's segment may lie in: where this process maps it, its size, its
/// device address, and whether it belongs to the pool of the device being mapped for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownBuffer {
    /// The buffer's first byte in this process.
    pub cpu_address: u64,
    /// Bytes in the buffer.
    pub size: u64,
    /// The device address of its first byte.
    pub device_address: u64,
    /// Whether it came from the pool of the device the mapping is for.
    pub same_device: bool,
}

/// Where one segment goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// The device uses the caller's bytes at this device address.
    Direct {
        /// The device address of the segment's first byte.
        device_address: u64,
    },
    /// The segment goes through a bounce buffer of the device's pool.
    Bounce,
}

/// Why a streaming mapping is refused (nothing is mapped, nothing copied).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamError {
    /// A segment of zero bytes (`EINVAL`).
    Empty,
    /// A segment whose end overflows the address space, or that does not lie inside the
    /// buffer it names (`EINVAL`).
    OutOfRange,
    /// No segments, or more than [`MAX_SEGMENTS`] (`EINVAL`).
    SegmentCount,
}

/// The most segments one mapping may have.
pub const MAX_SEGMENTS: usize = 64;

/// Where the segment of `length` bytes at `cpu_address` goes, given the DMA buffer it
/// claims to lie in (`None`: ordinary memory) and what the device reaches.
///
/// # Errors
///
/// [`StreamError::Empty`] for zero bytes, [`StreamError::OutOfRange`] if the segment's end
/// overflows or it does not lie wholly inside `inside`.
pub fn place(
    cpu_address: u64,
    length: u64,
    inside: Option<KnownBuffer>,
    reach: Reach,
) -> Result<Placement, StreamError> {
    if length == 0 {
        return Err(StreamError::Empty);
    }
    let end = cpu_address
        .checked_add(length)
        .ok_or(StreamError::OutOfRange)?;
    let Some(buffer) = inside else {
        return Ok(Placement::Bounce);
    };
    let buffer_end = buffer
        .cpu_address
        .checked_add(buffer.size)
        .ok_or(StreamError::OutOfRange)?;
    if cpu_address < buffer.cpu_address || end > buffer_end {
        return Err(StreamError::OutOfRange);
    }
    if !buffer.same_device {
        return Ok(Placement::Bounce);
    }
    let Some(device_address) = buffer
        .device_address
        .checked_add(cpu_address - buffer.cpu_address)
    else {
        return Ok(Placement::Bounce);
    };
    if reach.reaches(device_address, length) {
        Ok(Placement::Direct { device_address })
    } else {
        Ok(Placement::Bounce)
    }
}

/// Checks a whole mapping's segment count before anything is placed.
///
/// # Errors
///
/// [`StreamError::SegmentCount`] for none or more than [`MAX_SEGMENTS`].
pub fn check_segment_count(count: usize) -> Result<(), StreamError> {
    if count == 0 || count > MAX_SEGMENTS {
        Err(StreamError::SegmentCount)
    } else {
        Ok(())
    }
}

/// Something with a size in bytes: a bounce buffer.
pub trait Sized64 {
    /// Bytes it holds.
    fn bytes(&self) -> u64;
}

/// Idle bounce buffers kept for reuse, at most `limit` of them.
#[derive(Debug)]
pub struct BounceCache<B> {
    idle: Vec<B>,
    limit: usize,
}

impl<B: Sized64> BounceCache<B> {
    /// An empty cache keeping at most `limit` buffers.
    pub fn new(limit: usize) -> Self {
        BounceCache {
            idle: Vec::new(),
            limit,
        }
    }

    /// The smallest idle buffer of at least `length` bytes, taken out of the cache.
    pub fn take(&mut self, length: u64) -> Option<B> {
        let index = self
            .idle
            .iter()
            .enumerate()
            .filter(|(_, buffer)| buffer.bytes() >= length)
            .min_by_key(|(_, buffer)| buffer.bytes())
            .map(|(index, _)| index)?;
        Some(self.idle.swap_remove(index))
    }

    /// Keeps `buffer` for reuse, or hands it back (to be released) when the cache is full.
    /// A full cache keeps the larger of the two, so a big transfer does not keep bouncing
    /// through fresh allocations.
    pub fn give(&mut self, buffer: B) -> Option<B> {
        if self.idle.len() < self.limit {
            self.idle.push(buffer);
            return None;
        }
        let smallest = self
            .idle
            .iter()
            .enumerate()
            .min_by_key(|(_, idle)| idle.bytes())
            .map(|(index, _)| index);
        match smallest {
            Some(index) if self.idle[index].bytes() < buffer.bytes() => {
                Some(core::mem::replace(&mut self.idle[index], buffer))
            }
            _ => Some(buffer),
        }
    }

    /// The idle buffers, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &B> {
        self.idle.iter()
    }

    /// Idle buffers held.
    pub fn len(&self) -> usize {
        self.idle.len()
    }

    /// Whether no buffer is idle.
    pub fn is_empty(&self) -> bool {
        self.idle.is_empty()
    }

    /// The most idle buffers kept.
    pub fn limit(&self) -> usize {
        self.limit
    }
}
