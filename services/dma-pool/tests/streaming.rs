//! Streaming-mapping bookkeeping against models: the direct/bounce rule against its
//! definition, the bounce cache against a multiset, and whole transfers (map, device reads
//! and writes, unmap, repeated so bounce buffers are reused) against what a direct mapping
//! of the caller's memory would have done.

use std::collections::BTreeMap;

use dma_pool::streaming::{
    check_segment_count, place, BounceCache, Direction, KnownBuffer, Placement, Reach, Sized64,
    StreamError, MAX_SEGMENTS,
};
use proptest::prelude::*;

/// The simulated process memory: 16 slots of 4 KiB from `CPU_BASE`.
const CPU_BASE: u64 = 0x10_0000;
const SLOT: u64 = 0x1000;
const SLOTS: usize = 16;
/// Slots 0..4 are a buffer of the device's own pool at `OWN_DEVICE`.
const OWN_SLOTS: usize = 4;
const OWN_DEVICE: u64 = 0x8000_0000;
/// Slots 4..6 are a buffer of another device's pool.
const OTHER_SLOTS: usize = 2;
const OTHER_DEVICE: u64 = 0x1_0000_0000;
/// Bounce buffers get device addresses from here on (the device's pool, below 2 GiB).
const BOUNCE_BASE: u64 = 0x4000_0000;

fn own_buffer() -> KnownBuffer {
    KnownBuffer {
        cpu_address: CPU_BASE,
        size: OWN_SLOTS as u64 * SLOT,
        device_address: OWN_DEVICE,
        same_device: true,
    }
}

fn other_buffer() -> KnownBuffer {
    KnownBuffer {
        cpu_address: CPU_BASE + OWN_SLOTS as u64 * SLOT,
        size: OTHER_SLOTS as u64 * SLOT,
        device_address: OTHER_DEVICE,
        same_device: false,
    }
}

/// The buffer a slot lies in (`None`: ordinary memory).
fn buffer_of(slot: usize) -> Option<KnownBuffer> {
    if slot < OWN_SLOTS {
        Some(own_buffer())
    } else if slot < OWN_SLOTS + OTHER_SLOTS {
        Some(other_buffer())
    } else {
        None
    }
}

fn reach() -> impl Strategy<Value = Reach> {
    (
        prop_oneof![Just(u64::MAX), Just(0xffff_ffff), Just(0x7fff_ffff)],
        prop_oneof![Just(0u64), Just(0x800), Just(0x1000), Just(0x1_0000)],
    )
        .prop_map(|(mask, boundary)| Reach { mask, boundary })
}

proptest! {
    /// `place` is exactly the documented rule.
    #[test]
    fn placement_follows_the_rule(
        slot in 0..SLOTS,
        offset in 0..SLOT,
        length in 0..2 * SLOT,
        reach in reach(),
    ) {
        let cpu = CPU_BASE + slot as u64 * SLOT + offset;
        let inside = buffer_of(slot);
        let placed = place(cpu, length, inside, reach);
        if length == 0 {
            prop_assert_eq!(placed, Err(StreamError::Empty));
            return Ok(());
        }
        match inside {
            None => prop_assert_eq!(placed, Ok(Placement::Bounce)),
            Some(buffer) => {
                if cpu + length > buffer.cpu_address + buffer.size {
                    prop_assert_eq!(placed, Err(StreamError::OutOfRange));
                    return Ok(());
                }
                let device = buffer.device_address + (cpu - buffer.cpu_address);
                let last = device + length - 1;
                let reachable = last <= reach.mask
                    && (reach.boundary == 0 || device / reach.boundary == last / reach.boundary);
                if buffer.same_device && reachable {
                    prop_assert_eq!(placed, Ok(Placement::Direct { device_address: device }));
                } else {
                    prop_assert_eq!(placed, Ok(Placement::Bounce));
                }
            }
        }
    }

    /// Segments overflowing the address space or outside their buffer are refused.
    #[test]
    fn overflowing_segments_are_refused(cpu in any::<u64>(), length in 1..u64::MAX) {
        let placed = place(cpu, length, None, Reach::default());
        if cpu.checked_add(length).is_none() {
            prop_assert_eq!(placed, Err(StreamError::OutOfRange));
        } else {
            prop_assert_eq!(placed, Ok(Placement::Bounce));
        }
        let before = place(CPU_BASE - 1, length.min(SLOT), Some(own_buffer()), Reach::default());
        prop_assert_eq!(before, Err(StreamError::OutOfRange));
    }
}

#[test]
fn segment_counts_are_checked() {
    assert_eq!(check_segment_count(0), Err(StreamError::SegmentCount));
    assert_eq!(check_segment_count(1), Ok(()));
    assert_eq!(check_segment_count(MAX_SEGMENTS), Ok(()));
    assert_eq!(
        check_segment_count(MAX_SEGMENTS + 1),
        Err(StreamError::SegmentCount)
    );
}

/// A simulated bounce buffer: a device address and its bytes.
#[derive(Debug)]
struct Bounce {
    device_address: u64,
    bytes: Vec<u8>,
}

impl Sized64 for Bounce {
    fn bytes(&self) -> u64 {
        self.bytes.len() as u64
    }
}

#[derive(Clone, Debug)]
enum CacheStep {
    Take(u64),
    Give(u64),
}

proptest! {
    /// The cache against a multiset of sizes: `take` gives the smallest fitting buffer or
    /// none if none fits, `give` keeps up to the limit and otherwise hands back the smaller
    /// of the new buffer and the smallest kept one; nothing is lost or duplicated.
    #[test]
    fn bounce_cache_matches_a_multiset(
        limit in 0usize..6,
        steps in prop::collection::vec(
            prop_oneof![
                (1u64..20_000).prop_map(CacheStep::Take),
                (1u64..8).prop_map(|pages| CacheStep::Give(pages * 4096)),
            ],
            0..60,
        ),
    ) {
        let mut cache: BounceCache<Bounce> = BounceCache::new(limit);
        let mut model: BTreeMap<u64, usize> = BTreeMap::new();
        let mut next = 0u64;
        let mut out = 0usize;
        for step in steps {
            match step {
                CacheStep::Take(length) => {
                    let expected = model.range(length..).next().map(|(size, _)| *size);
                    let taken = cache.take(length);
                    prop_assert_eq!(taken.as_ref().map(|b| b.bytes()), expected);
                    if let Some(size) = expected {
                        let count = model.get_mut(&size).unwrap();
                        *count -= 1;
                        if *count == 0 {
                            model.remove(&size);
                        }
                    }
                }
                CacheStep::Give(size) => {
                    next += 1;
                    let buffer = Bounce { device_address: next, bytes: vec![0; size as usize] };
                    let held: usize = model.values().sum();
                    let back = cache.give(buffer);
                    if held < limit {
                        prop_assert!(back.is_none());
                        *model.entry(size).or_default() += 1;
                    } else {
                        let smallest = model.keys().next().copied();
                        let back = back.expect("a full cache hands a buffer back");
                        out += 1;
                        match smallest {
                            Some(small) if small < size => {
                                prop_assert_eq!(back.bytes(), small);
                                let count = model.get_mut(&small).unwrap();
                                *count -= 1;
                                if *count == 0 {
                                    model.remove(&small);
                                }
                                *model.entry(size).or_default() += 1;
                            }
                            _ => prop_assert_eq!(back.bytes(), size),
                        }
                    }
                }
            }
            prop_assert_eq!(cache.len(), model.values().sum::<usize>());
            prop_assert!(cache.len() <= limit);
        }
        let _ = out;
    }
}

/// One segment of a simulated mapping: slot, offset in it, length.
#[derive(Clone, Debug)]
struct Segment {
    slot: usize,
    offset: u64,
    length: u64,
}

/// One transfer: its segments (distinct slots), direction, and what the device writes into
/// each segment (offset, bytes) when it may write.
#[derive(Clone, Debug)]
struct Transfer {
    segments: Vec<Segment>,
    direction: Direction,
    writes: Vec<(u64, Vec<u8>)>,
}

fn transfer() -> impl Strategy<Value = Transfer> {
    (
        prop::sample::subsequence((0..SLOTS).collect::<Vec<_>>(), 1..5),
        prop_oneof![
            Just(Direction::ToDevice),
            Just(Direction::FromDevice),
            Just(Direction::Bidirectional)
        ],
    )
        .prop_flat_map(|(slots, direction)| {
            let count = slots.len();
            (
                prop::collection::vec((0..SLOT - 1, 1..SLOT), count),
                prop::collection::vec((0..SLOT, prop::collection::vec(any::<u8>(), 0..64)), count),
                prop::strategy::Just((slots, direction)),
            )
        })
        .prop_map(|(shapes, writes, (slots, direction))| {
            let segments = slots
                .iter()
                .zip(shapes)
                .map(|(slot, (offset, length))| Segment {
                    slot: *slot,
                    offset,
                    length: length.min(SLOT - offset),
                })
                .collect();
            Transfer {
                segments,
                direction,
                writes,
            }
        })
}

/// The simulated world: process memory, bounce buffers live and cached.
struct World {
    memory: Vec<u8>,
    cache: BounceCache<Bounce>,
    next_bounce: u64,
    allocated: usize,
}

impl World {
    fn cpu_index(cpu: u64) -> usize {
        (cpu - CPU_BASE) as usize
    }

    /// The device's view of `device_address` for `length` bytes: the caller's memory for a
    /// direct segment, the bounce buffer's bytes otherwise.
    fn device_bytes<'a>(
        &'a mut self,
        placement: &Placement,
        bounce: &'a mut Option<Bounce>,
        cpu: u64,
        length: u64,
    ) -> &'a mut [u8] {
        match (placement, bounce) {
            (Placement::Direct { device_address }, None) => {
                // The device address must be the caller's bytes in the own buffer.
                let index = (device_address - OWN_DEVICE) as usize;
                assert_eq!(index, Self::cpu_index(cpu));
                &mut self.memory[index..index + length as usize]
            }
            (Placement::Bounce, Some(buffer)) => &mut buffer.bytes[..length as usize],
            _ => unreachable!("a direct segment has no bounce buffer and a bounced one has"),
        }
    }
}

proptest! {
    /// Mapping, device access through the device addresses, and unmapping leave the
    /// caller's memory exactly as a direct mapping would, for every direction and mix of
    /// direct and bounced segments, across transfers that reuse bounce buffers.
    #[test]
    fn transfers_match_a_direct_mapping(
        seed in prop::collection::vec(any::<u8>(), (SLOTS as u64 * SLOT) as usize),
        transfers in prop::collection::vec(transfer(), 1..6),
        reach in reach(),
        limit in 0usize..4,
    ) {
        let mut world = World {
            memory: seed,
            cache: BounceCache::new(limit),
            next_bounce: BOUNCE_BASE,
            allocated: 0,
        };
        for transfer in transfers {
            let mut model = world.memory.clone();
            // Map.
            let mut mapped = Vec::new();
            for segment in &transfer.segments {
                let cpu = CPU_BASE + segment.slot as u64 * SLOT + segment.offset;
                let placement = place(cpu, segment.length, buffer_of(segment.slot), reach)
                    .expect("segments lie inside their slot");
                let bounce = match placement {
                    Placement::Direct { device_address } => {
                        prop_assert!(reach.reaches(device_address, segment.length));
                        None
                    }
                    Placement::Bounce => {
                        let mut buffer = match world.cache.take(segment.length) {
                            Some(buffer) => buffer,
                            None => {
                                world.allocated += 1;
                                let size = segment.length.next_power_of_two().max(4096);
                                world.next_bounce += 0x10_0000;
                                Bounce {
                                    device_address: world.next_bounce,
                                    bytes: vec![0xee; size as usize],
                                }
                            }
                        };
                        prop_assert!(buffer.bytes.len() as u64 >= segment.length);
                        prop_assert!(buffer.device_address > BOUNCE_BASE);
                        if transfer.direction.copies_in() {
                            let index = World::cpu_index(cpu);
                            buffer.bytes[..segment.length as usize].copy_from_slice(
                                &world.memory[index..index + segment.length as usize],
                            );
                        }
                        Some(buffer)
                    }
                };
                mapped.push((cpu, segment.length, placement, bounce));
            }
            // The device reads what the caller had, and writes where it may.
            for ((cpu, length, placement, bounce), (at, bytes)) in
                mapped.iter_mut().zip(&transfer.writes)
            {
                let original = {
                    let index = World::cpu_index(*cpu);
                    model[index..index + *length as usize].to_vec()
                };
                let seen = world.device_bytes(placement, bounce, *cpu, *length);
                if transfer.direction != Direction::FromDevice {
                    prop_assert_eq!(&seen[..], &original[..], "the device reads the caller's bytes");
                }
                if transfer.direction.device_writes() {
                    let start = (*at).min(*length) as usize;
                    let end = (start + bytes.len()).min(*length as usize);
                    seen[start..end].copy_from_slice(&bytes[..end - start]);
                    let index = World::cpu_index(*cpu);
                    model[index + start..index + end].copy_from_slice(&bytes[..end - start]);
                }
            }
            // Unmap.
            for (cpu, length, _, bounce) in mapped {
                if let Some(buffer) = bounce {
                    if transfer.direction.copies_back() {
                        let index = World::cpu_index(cpu);
                        world.memory[index..index + length as usize]
                            .copy_from_slice(&buffer.bytes[..length as usize]);
                    }
                    drop(world.cache.give(buffer));
                }
            }
            prop_assert!(world.memory == model, "memory differs from a direct mapping's");
            prop_assert!(world.cache.len() <= limit);
        }
    }
}
