//! Streaming DMA mappings (`dma_map_single` / `dma_map_sg`): a driver hands its device its
//! own memory for one transfer.
//!
//! A [`StreamMapper`] serves one device. [`StreamMapper::map_sg`] takes [`Segment`]s —
//! ordinary memory (`&mut [u8]`) or a range of a [`Dma`] buffer — and returns a
//! [`Mapping`] with one device address per segment. The rule (`dma_pool::streaming::place`,
//! tested on the host): a range wholly inside a buffer of *this device's* pool that the
//! device reaches under the mapper's [`DmaConstraints`] (mask, boundary) maps directly; all
//! else bounces. Ordinary memory always bounces: it is never in a device's IOMMU domain and
//! its physical pages are unknown to a driver, so it is not shareable. A buffer of another
//! device's pool bounces: it is in that device's domain, not this one's.
//!
//! Which memory is which is said by the segment's type, not looked up: a
//! [`Segment::Memory`] is ordinary memory even if it happens to lie inside a `Dma` buffer
//! (correct, only slower); name the buffer with [`Segment::Dma`] to map it directly.
//!
//! Bounce buffers are pool buffers from dmad (the device's swiotlb-like area), allocated
//! under the mapper's constraints, filled from the caller's bytes at map time and, for
//! [`Direction::FromDevice`] and [`Direction::Bidirectional`], copied back when the mapping
//! ends. Up to [`BOUNCE_CACHE_LIMIT`] idle ones are kept, so a warm driver's transfers cost
//! no request to dmad. While mapped, a bounce buffer is a [`DeviceOwned`]: the mapping
//! itself holds no `&mut` into memory the device owns.
//!
//! # Ownership
//!
//! A `Mapping<'a>` borrows every segment mutably for `'a`, so safe code can neither read
//! nor write the caller's memory while the device owns it, and [`Mapping::unmap`] consumes
//! the mapping, so it cannot be unmapped twice:
//!
//! ```compile_fail
//! # fn demo(mapper: &userlib::dma::StreamMapper) -> userlib::sys::Result<()> {
//! let mut bytes = [0u8; 512];
//! let mapping = mapper.map_single(&mut bytes, userlib::dma::Direction::FromDevice)?;
//! let peek = bytes[0]; // error: `bytes` is mutably borrowed by the mapping
//! mapping.unmap();
//! # let _ = peek; Ok(()) }
//! ```
//!
//! ```compile_fail
//! # fn demo(mapper: &userlib::dma::StreamMapper) -> userlib::sys::Result<()> {
//! let mut bytes = [0u8; 512];
//! let mapping = mapper.map_single(&mut bytes, userlib::dma::Direction::FromDevice)?;
//! mapping.unmap();
//! mapping.unmap(); // error: use of moved value
//! # Ok(()) }
//! ```
//!
//! The same without the misuse compiles:
//!
//! ```no_run
//! # fn demo(mapper: &userlib::dma::StreamMapper) -> userlib::sys::Result<()> {
//! let mut bytes = [0u8; 512];
//! let mapping = mapper.map_single(&mut bytes, userlib::dma::Direction::FromDevice)?;
//! let _device_address = mapping.dma_addr();
//! mapping.unmap();
//! let _peek = bytes[0];
//! # Ok(()) }
//! ```
//!
//! The unsafe [`StreamMapper::map_raw`] is for interfaces that share by pointer and unshare
//! by device address (`virtio_drivers::Hal`); its caller promises what the borrow would.

use super::{sync, DeviceOwned, Dma, DmaConstraints};
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::marker::PhantomData;
use core::ops::Range;
use core::ptr::NonNull;
use dma_api::PAGE_SIZE;
pub use dma_pool::streaming::Direction;
use dma_pool::streaming::{
    check_segment_count, place, BounceCache, KnownBuffer, Placement, Reach, Sized64, StreamError,
};
use syscall::error::{Error, Result, EINVAL};

/// How many idle bounce buffers a mapper keeps.
pub const BOUNCE_CACHE_LIMIT: usize = 8;

/// One piece of memory a transfer uses.
pub enum Segment<'a> {
    /// Ordinary memory of this process: always bounced.
    Memory(&'a mut [u8]),
    /// Bytes `range` of a DMA buffer: direct if it is of the mapper's device and reachable.
    Dma(&'a mut Dma<[u8]>, Range<usize>),
}

/// What a mapper has done, for tests and status texts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamCounters {
    /// Segments mapped directly.
    pub direct: u64,
    /// Segments bounced.
    pub bounced: u64,
    /// Bounce buffers allocated from dmad (the rest came from the cache).
    pub allocated: u64,
}

/// An idle bounce buffer.
struct Bounce(Dma<[u8]>);

impl Sized64 for Bounce {
    fn bytes(&self) -> u64 {
        self.0.len() as u64
    }
}

struct Shared {
    device: String,
    constraints: DmaConstraints,
    cache: BounceCache<Bounce>,
    counters: StreamCounters,
}

/// Streaming mappings for one device, with its cache of idle bounce buffers.
pub struct StreamMapper {
    shared: Rc<RefCell<Shared>>,
}

/// A segment as claimed: where the CPU sees it, its length, the buffer it lies in.
struct Claim {
    cpu_address: usize,
    length: usize,
    inside: Option<KnownBuffer>,
    /// The memory type of the buffer it lies in (ordinary memory: write-back, never direct).
    cache_type: u32,
}

impl StreamMapper {
    /// Mappings for `device`, which reaches every address.
    pub fn new(device: &str) -> Self {
        Self::with_constraints(device, DmaConstraints::default())
    }

    /// Mappings for `device`, which reaches only what `constraints` allow (its `mask` and
    /// `boundary`; bounce buffers are allocated under all of them).
    pub fn with_constraints(device: &str, constraints: DmaConstraints) -> Self {
        StreamMapper {
            shared: Rc::new(RefCell::new(Shared {
                device: String::from(device),
                constraints,
                cache: BounceCache::new(BOUNCE_CACHE_LIMIT),
                counters: StreamCounters::default(),
            })),
        }
    }

    /// Idle bounce buffers held for reuse.
    pub fn idle_bounce_buffers(&self) -> usize {
        self.shared.borrow().cache.len()
    }

    /// The device address and size of each idle bounce buffer (for a driver's list of the
    /// buffers it holds).
    pub fn idle_bounce_buffer_addresses(&self) -> Vec<(u64, usize)> {
        self.shared
            .borrow()
            .cache
            .iter()
            .map(|Bounce(buffer)| (buffer.dma_addr(), buffer.len()))
            .collect()
    }

    /// What the mapper has done so far.
    pub fn counters(&self) -> StreamCounters {
        self.shared.borrow().counters
    }

    /// Maps `bytes` of ordinary memory (bounced) for one transfer (`dma_map_single`).
    ///
    /// # Errors
    ///
    /// As [`map_sg`](Self::map_sg).
    pub fn map_single<'a>(&self, bytes: &'a mut [u8], direction: Direction) -> Result<Mapping<'a>> {
        self.map_sg([Segment::Memory(bytes)], direction)
    }

    /// Maps `bytes` of ordinary memory (bounced) for the device to read
    /// ([`Direction::ToDevice`]). A shared borrow is enough: the device only reads, and the
    /// borrow keeps safe code from writing while it does.
    ///
    /// # Errors
    ///
    /// As [`map_sg`](Self::map_sg).
    pub fn map_for_device<'a>(&self, bytes: &'a [u8]) -> Result<Mapping<'a>> {
        let claim = Claim {
            cpu_address: bytes.as_ptr() as usize,
            length: bytes.len(),
            inside: None,
            cache_type: dma_api::cache_type::WRITE_BACK,
        };
        // Never written: `ToDevice` copies nothing back.
        self.map_claims(alloc::vec![claim], Direction::ToDevice)
    }

    /// Maps bytes `range` of `buffer` (direct if the rule allows).
    ///
    /// # Errors
    ///
    /// As [`map_sg`](Self::map_sg).
    pub fn map_dma<'a>(
        &self,
        buffer: &'a mut Dma<[u8]>,
        range: Range<usize>,
        direction: Direction,
    ) -> Result<Mapping<'a>> {
        self.map_sg([Segment::Dma(buffer, range)], direction)
    }

    /// Maps `segments` for one transfer (`dma_map_sg`): one device address per segment, in
    /// order. Nothing is mapped or copied unless every segment is valid.
    ///
    /// # Errors
    ///
    /// `EINVAL` for no segments or more than `dma_pool::streaming::MAX_SEGMENTS`, an empty
    /// segment, or a range outside its buffer; dmad's refusal of a bounce buffer (`ENOMEM`,
    /// `EDQUOT`, `EINVAL` for a segment the constraints can never fit), after which nothing
    /// stays mapped.
    pub fn map_sg<'a>(
        &self,
        segments: impl IntoIterator<Item = Segment<'a>>,
        direction: Direction,
    ) -> Result<Mapping<'a>> {
        let device = self.shared.borrow().device.clone();
        let mut claims = Vec::new();
        for segment in segments {
            claims.push(claim(segment, &device)?);
        }
        self.map_claims(claims, direction)
    }

    /// Maps the memory `buffer` points to for one transfer, as [`map_single`]
    /// (ordinary memory: bounced).
    ///
    /// # Safety
    ///
    /// `buffer` must be valid for reads (and, unless `direction` is
    /// [`Direction::ToDevice`], for writes) until the mapping is dropped, and nothing else
    /// may access it meanwhile: what the borrow of [`map_single`] would guarantee.
    ///
    /// # Errors
    ///
    /// As [`map_sg`](Self::map_sg); `EINVAL` also for a pointer and length whose end
    /// overflows the address space.
    ///
    /// [`map_single`]: Self::map_single
    pub unsafe fn map_raw(
        &self,
        buffer: NonNull<[u8]>,
        direction: Direction,
    ) -> Result<Mapping<'static>> {
        let claim = Claim {
            cpu_address: buffer.as_ptr() as *mut u8 as usize,
            length: buffer.len(),
            inside: None,
            cache_type: dma_api::cache_type::WRITE_BACK,
        };
        self.map_claims(alloc::vec![claim], direction)
    }

    fn map_claims<'a>(&self, claims: Vec<Claim>, direction: Direction) -> Result<Mapping<'a>> {
        check_segment_count(claims.len()).map_err(errno)?;
        let reach = {
            let constraints = self.shared.borrow().constraints;
            Reach {
                mask: constraints.mask.unwrap_or(u64::MAX),
                boundary: constraints.boundary.unwrap_or(0),
            }
        };
        let mut placements = Vec::with_capacity(claims.len());
        for claim in &claims {
            let placement = place(
                claim.cpu_address as u64,
                claim.length as u64,
                claim.inside,
                reach,
            );
            placements.push(placement.map_err(errno)?);
        }
        let mut mapping = Mapping {
            shared: self.shared.clone(),
            direction,
            segments: Vec::with_capacity(claims.len()),
            complete: false,
            _borrows: PhantomData,
        };
        for (claim, placement) in claims.iter().zip(placements) {
            let mapped = match placement {
                Placement::Direct { device_address } => {
                    sync::for_device(claim.cpu_address, claim.length, claim.cache_type);
                    self.shared.borrow_mut().counters.direct += 1;
                    Mapped {
                        cpu_address: claim.cpu_address,
                        length: claim.length,
                        cache_type: claim.cache_type,
                        device_address,
                        bounce: None,
                    }
                }
                // On failure `mapping` drops incomplete: its bounce buffers go back to the
                // cache and nothing is copied back.
                Placement::Bounce => self.bounce(claim, direction)?,
            };
            mapping.segments.push(mapped);
        }
        mapping.complete = true;
        Ok(mapping)
    }

    /// A bounce buffer for `claim`, filled from it, lent to the device.
    fn bounce(&self, claim: &Claim, direction: Direction) -> Result<Mapped> {
        let cached = self.shared.borrow_mut().cache.take(claim.length as u64);
        let mut buffer = match cached {
            Some(Bounce(buffer)) => buffer,
            None => {
                let (device, constraints) = {
                    let shared = self.shared.borrow();
                    (shared.device.clone(), shared.constraints)
                };
                let size = claim
                    .length
                    .checked_next_power_of_two()
                    .ok_or(Error::new(EINVAL))?
                    .max(PAGE_SIZE as usize);
                let buffer = Dma::<[u8]>::zeroed_slice_with(&device, size, constraints)?;
                self.shared.borrow_mut().counters.allocated += 1;
                buffer
            }
        };
        if direction.copies_in() {
            // SAFETY: the claim is a segment the caller lent for reading (a `&mut [u8]`
            // borrowed for the mapping's lifetime, or `map_raw`'s promise), and the bounce
            // buffer is at least `length` bytes of this process's own mapping.
            let source = unsafe {
                core::slice::from_raw_parts(claim.cpu_address as *const u8, claim.length)
            };
            buffer[..claim.length].copy_from_slice(source);
        }
        self.shared.borrow_mut().counters.bounced += 1;
        let owned = buffer.lend_to_device();
        Ok(Mapped {
            cpu_address: claim.cpu_address,
            length: claim.length,
            cache_type: claim.cache_type,
            device_address: owned.dma_addr(),
            bounce: Some(owned),
        })
    }
}

/// What `segment` claims, checked for being inside its buffer.
fn claim(segment: Segment<'_>, device: &str) -> Result<Claim> {
    match segment {
        Segment::Memory(bytes) => Ok(Claim {
            cpu_address: bytes.as_mut_ptr() as usize,
            length: bytes.len(),
            inside: None,
            cache_type: dma_api::cache_type::WRITE_BACK,
        }),
        Segment::Dma(buffer, range) => {
            if range.start > range.end || range.end > buffer.len() {
                return Err(Error::new(EINVAL));
            }
            let base = buffer.as_mut_ptr() as usize;
            Ok(Claim {
                cpu_address: base + range.start,
                length: range.end - range.start,
                cache_type: buffer.info().cache_type,
                inside: Some(KnownBuffer {
                    cpu_address: base as u64,
                    size: buffer.len() as u64,
                    device_address: buffer.dma_addr(),
                    same_device: buffer.device() == device,
                }),
            })
        }
    }
}

fn errno(_: StreamError) -> Error {
    Error::new(EINVAL)
}

/// One mapped segment.
struct Mapped {
    cpu_address: usize,
    length: usize,
    cache_type: u32,
    device_address: u64,
    bounce: Option<DeviceOwned<[u8]>>,
}

/// A live streaming mapping: give its device addresses to the device; when the device is
/// done, [`unmap`](Self::unmap) (or drop) it, which copies bounced bytes back per direction
/// and ends the borrow of the memory.
#[must_use = "dropping a mapping at once ends the transfer before the device starts"]
pub struct Mapping<'a> {
    shared: Rc<RefCell<Shared>>,
    direction: Direction,
    segments: Vec<Mapped>,
    /// Set once every segment is mapped; an incomplete mapping copies nothing back.
    complete: bool,
    _borrows: PhantomData<&'a mut [u8]>,
}

impl core::fmt::Debug for Mapping<'_> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut list = formatter.debug_list();
        for segment in &self.segments {
            list.entry(&(
                segment.device_address,
                segment.length,
                if segment.bounce.is_some() {
                    "bounced"
                } else {
                    "direct"
                },
            ));
        }
        list.finish()
    }
}

impl Mapping<'_> {
    /// The device address of the first segment (the only one of a `map_single`).
    pub fn dma_addr(&self) -> u64 {
        self.segments[0].device_address
    }

    /// The device address and length of each segment, in order.
    pub fn device_segments(&self) -> impl Iterator<Item = (u64, usize)> + '_ {
        self.segments
            .iter()
            .map(|segment| (segment.device_address, segment.length))
    }

    /// Whether segment `index` goes through a bounce buffer (`None`: no such segment).
    pub fn is_bounced(&self, index: usize) -> Option<bool> {
        self.segments
            .get(index)
            .map(|segment| segment.bounce.is_some())
    }

    /// The transfer's direction.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Ends the transfer (the device must be done): bounced bytes the device may have
    /// written are copied back, bounce buffers return to the cache, the memory's borrow
    /// ends. The same as dropping the mapping.
    pub fn unmap(self) {}
}

impl Drop for Mapping<'_> {
    fn drop(&mut self) {
        let copy_back = self.complete && self.direction.copies_back();
        for segment in self.segments.drain(..) {
            let Some(owned) = segment.bounce else {
                sync::for_cpu(segment.cpu_address, segment.length, segment.cache_type);
                continue;
            };
            let buffer = owned.reclaim();
            if copy_back {
                // SAFETY: the segment is memory lent for writing for the mapping's lifetime
                // (a `&mut [u8]` borrow, or `map_raw`'s promise), which ends only after this
                // drop; the bounce buffer holds at least `length` bytes.
                let target = unsafe {
                    core::slice::from_raw_parts_mut(segment.cpu_address as *mut u8, segment.length)
                };
                target.copy_from_slice(&buffer[..segment.length]);
            }
            let refused = self.shared.borrow_mut().cache.give(Bounce(buffer));
            // A full cache hands one buffer back: dropping it returns it to dmad.
            drop(refused);
        }
    }
}
