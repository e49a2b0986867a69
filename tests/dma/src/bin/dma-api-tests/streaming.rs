//! Streaming mappings (`StreamMapper`: `dma_map_single` / `dma_map_sg` with bounce buffers)
//! and the typed hand-off (`Dma::lend_to_device` / `DeviceOwned::reclaim`), against real
//! dmad pools and, for the transfers, QEMU's `edu` DMA engine behind the IOMMU.
//!
//! The rule under test: ordinary memory always bounces through the device's pool; a range
//! of a buffer of the device's own pool that the device reaches maps directly (device
//! address = buffer + offset); a range of another device's pool, or one the device cannot
//! reach (beyond its mask, across its boundary), bounces.

use crate::constraints::HIGH_DEVICE;
use crate::edu::{self, Edu, INTERNAL};
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use core::ptr::NonNull;
use dma_tests::{stats, DEVICE, PAGE_SIZE};
use process_tests::check::{expect_errno, expect_ok, Outcome};
use process_tests::ensure;
use process_tests::runner::Suite;
use userlib::dma::{
    Direction, Dma, DmaConstraints, Segment, StreamCounters, StreamMapper, BOUNCE_CACHE_LIMIT,
};
use userlib::sys::error::EINVAL;

const PAGE: usize = PAGE_SIZE;
const PAGE_BYTES: u64 = PAGE_SIZE as u64;

/// Adds this module's tests to the suite.
pub fn register(suite: &mut Suite) {
    suite.run(
        "a_scattered_user_buffer_moves_through_a_real_device",
        a_scattered_user_buffer_moves_through_a_real_device,
    );
    suite.run(
        "own_pool_maps_directly_and_another_pool_bounces",
        own_pool_maps_directly_and_another_pool_bounces,
    );
    suite.run("unreachable_ranges_bounce", unreachable_ranges_bounce);
    suite.run(
        "streaming_misuse_is_refused_without_effect",
        streaming_misuse_is_refused_without_effect,
    );
    suite.run(
        "bounce_buffers_are_reused_and_bounded",
        bounce_buffers_are_reused_and_bounded,
    );
    suite.run(
        "partial_device_writes_keep_the_callers_other_bytes",
        partial_device_writes_keep_the_callers_other_bytes,
    );
    suite.run(
        "lend_and_reclaim_around_a_device_write",
        lend_and_reclaim_around_a_device_write,
    );
}

/// A byte pattern that does not repeat every 256 bytes.
fn pattern(index: usize, seed: u8) -> u8 {
    (index as u8).wrapping_mul(7).wrapping_add(seed) ^ (index >> 8) as u8
}

/// `(page, offset, length)` of four segments on non-adjacent pages of an eight-page
/// buffer, 4095 bytes in all: edu's internal buffer less one byte (QEMU 7.2's edu refuses
/// a transfer that ends at its buffer's last byte, an off-by-one in its range check).
const SOURCE_SEGMENTS: [(usize, usize, usize); 4] =
    [(0, 0, 1024), (2, 300, 700), (5, 4000, 96), (7, 17, 2275)];
/// Where the same lengths land on the way back, on other pages.
const TARGET_SEGMENTS: [(usize, usize, usize); 4] =
    [(1, 5, 1024), (3, 3396, 700), (4, 0, 96), (6, 1820, 2275)];

/// The segments `shape` names, cut out of `memory` (eight pages).
fn scatter<'a>(memory: &'a mut [u8], shape: &[(usize, usize, usize)]) -> Vec<Segment<'a>> {
    let mut pages: Vec<Option<&'a mut [u8]>> = memory.chunks_mut(PAGE).map(Some).collect();
    shape
        .iter()
        .map(|(page, offset, length)| {
            let page = pages[*page].take().expect("one segment per page");
            Segment::Memory(&mut page[*offset..*offset + *length])
        })
        .collect()
}

/// A scattered buffer of ordinary memory (four segments on non-adjacent heap pages) goes to
/// edu through a streaming map (every segment bounced, one device address each), edu's
/// buffer comes back into another scattered buffer; the bytes arrive exactly, and nothing
/// outside the segments changes.
pub fn a_scattered_user_buffer_moves_through_a_real_device() -> Outcome {
    let edu = Edu::open()?;
    let constraints = DmaConstraints {
        mask: Some(edu::MASK),
        ..DmaConstraints::default()
    };
    let mapper = StreamMapper::with_constraints(edu::DEVICE, constraints);
    let mut source = vec![0u8; 8 * PAGE];
    for (index, byte) in source.iter_mut().enumerate() {
        *byte = pattern(index, 13);
    }
    let expected: Vec<u8> = SOURCE_SEGMENTS
        .iter()
        .flat_map(|(page, offset, length)| {
            let start = page * PAGE + offset;
            source[start..start + length].to_vec()
        })
        .collect();
    let mapping = expect_ok(
        "map_sg to the device",
        mapper.map_sg(scatter(&mut source, &SOURCE_SEGMENTS), Direction::ToDevice),
    )?;
    let mut internal = INTERNAL;
    for (index, (address, length)) in mapping.device_segments().enumerate() {
        ensure!(
            mapping.is_bounced(index) == Some(true),
            "ordinary memory segment {index} was not bounced"
        );
        ensure!(
            address + length as u64 - 1 <= edu::MASK,
            "segment {index} at {address:#x} is beyond edu's mask"
        );
        edu.transfer(address, internal, length as u64)?;
        internal += length as u64;
    }
    mapping.unmap();

    let mut target = vec![0x5au8; 8 * PAGE];
    let mapping = expect_ok(
        "map_sg from the device",
        mapper.map_sg(
            scatter(&mut target, &TARGET_SEGMENTS),
            Direction::FromDevice,
        ),
    )?;
    let mut internal = INTERNAL;
    for (address, length) in mapping.device_segments() {
        edu.transfer(internal, address, length as u64)?;
        internal += length as u64;
    }
    mapping.unmap();
    let mut arrived = Vec::new();
    let mut inside = vec![false; target.len()];
    for (page, offset, length) in TARGET_SEGMENTS {
        let start = page * PAGE + offset;
        arrived.extend_from_slice(&target[start..start + length]);
        inside[start..start + length].fill(true);
    }
    ensure!(
        arrived == expected,
        "the scattered bytes came back wrong (first difference at {:?})",
        arrived.iter().zip(&expected).position(|(a, b)| a != b)
    );
    ensure!(
        target
            .iter()
            .zip(&inside)
            .all(|(byte, inside)| *inside || *byte == 0x5a),
        "bytes outside the mapped segments changed"
    );
    let counters = mapper.counters();
    ensure!(
        counters.bounced == 8 && counters.direct == 0 && counters.allocated == 4,
        "expected 8 bounces from 4 allocated buffers (reused the second time), got {counters:?}"
    );
    Ok(())
}

/// A range of a buffer of the device's own pool maps directly at the buffer's device
/// address plus the offset, costing no bounce buffer; a range of a `dma-api0` buffer (another
/// device's pool) mapped for `virtio-blk0` bounces through a new buffer of virtio-blk0's
/// pool (its live buffers rise by one, dma-api0's do not), and `Bidirectional` brings the
/// bytes back unchanged.
pub fn own_pool_maps_directly_and_another_pool_bounces() -> Outcome {
    let mapper = StreamMapper::new(DEVICE);
    let mut own = expect_ok("own buffer", Dma::<[u8]>::zeroed_slice(DEVICE, 2 * PAGE))?;
    let base = own.dma_addr();
    let mapping = expect_ok(
        "map_dma own",
        mapper.map_dma(&mut own, 100..5000, Direction::FromDevice),
    )?;
    ensure!(
        mapping.is_bounced(0) == Some(false) && mapping.dma_addr() == base + 100,
        "own-pool range at {:#x} (buffer at {base:#x}) was bounced or moved",
        mapping.dma_addr()
    );
    mapping.unmap();
    ensure!(
        mapper.counters()
            == StreamCounters {
                direct: 1,
                bounced: 0,
                allocated: 0
            },
        "a direct map cost {:?}",
        mapper.counters()
    );

    let mut foreign = expect_ok(
        "dma-api0 buffer",
        Dma::<[u8]>::zeroed_slice(HIGH_DEVICE, PAGE),
    )?;
    for (index, byte) in foreign.iter_mut().enumerate() {
        *byte = pattern(index, 3);
    }
    let foreign_range = foreign.dma_addr()..foreign.dma_addr() + PAGE_BYTES;
    let own_before = stats::read(DEVICE)?.live_buffers;
    let high_before = stats::read(HIGH_DEVICE)?.live_buffers;
    let mapping = expect_ok(
        "map_dma foreign",
        mapper.map_dma(&mut foreign, 10..1010, Direction::Bidirectional),
    )?;
    let address = mapping.dma_addr();
    let own_during = stats::read(DEVICE)?.live_buffers;
    let high_during = stats::read(HIGH_DEVICE)?.live_buffers;
    ensure!(
        mapping.is_bounced(0) == Some(true) && !foreign_range.contains(&address),
        "another pool's range was mapped at {address:#x} (buffer {foreign_range:#x?}), not bounced"
    );
    ensure!(
        own_during == own_before + 1 && high_during == high_before,
        "the bounce buffer should come from {DEVICE}'s pool: live {own_before}->{own_during}, {HIGH_DEVICE} {high_before}->{high_during}"
    );
    mapping.unmap();
    ensure!(
        foreign
            .iter()
            .enumerate()
            .all(|(index, byte)| *byte == pattern(index, 3)),
        "a bidirectional bounce the device did not write changed the bytes"
    );
    Ok(())
}

/// A device that cannot reach a range of its own pool gets it bounced: with a 4 KiB
/// boundary, a range crossing a page line of an own buffer bounces (into a buffer that does
/// not cross), one inside a page maps directly; and edu (32-bit mask) bounces a range of
/// `dma-api0` (device addresses above 4 GiB) into a buffer below 4 GiB, with the bytes
/// reaching the device.
pub fn unreachable_ranges_bounce() -> Outcome {
    let boundary = DmaConstraints {
        boundary: Some(PAGE_BYTES),
        ..DmaConstraints::default()
    };
    let mapper = StreamMapper::with_constraints(DEVICE, boundary);
    let mut own = expect_ok("own buffer", Dma::<[u8]>::zeroed_slice(DEVICE, 2 * PAGE))?;
    let base = own.dma_addr();
    let crossing = expect_ok(
        "map across the boundary",
        mapper.map_dma(&mut own, PAGE - 100..PAGE + 100, Direction::ToDevice),
    )?;
    let address = crossing.dma_addr();
    ensure!(
        crossing.is_bounced(0) == Some(true)
            && address / PAGE_BYTES == (address + 199) / PAGE_BYTES,
        "a range across the boundary was not bounced into one that keeps within it ({address:#x})"
    );
    crossing.unmap();
    let inside = expect_ok(
        "map inside a page",
        mapper.map_dma(&mut own, PAGE + 8..PAGE + 400, Direction::ToDevice),
    )?;
    ensure!(
        inside.is_bounced(0) == Some(false) && inside.dma_addr() == base + PAGE as u64 + 8,
        "a range within the boundary was bounced"
    );
    inside.unmap();

    let edu = Edu::open()?;
    let mask = DmaConstraints {
        mask: Some(edu::MASK),
        ..DmaConstraints::default()
    };
    let mapper = StreamMapper::with_constraints(edu::DEVICE, mask);
    let mut high = expect_ok(
        "dma-api0 buffer",
        Dma::<[u8]>::zeroed_slice(HIGH_DEVICE, PAGE),
    )?;
    ensure!(
        high.dma_addr() > edu::MASK,
        "dma-api0's buffer at {:#x} is not above 4 GiB",
        high.dma_addr()
    );
    for (index, byte) in high.iter_mut().enumerate() {
        *byte = pattern(index, 99);
    }
    let mapping = expect_ok(
        "map high for edu",
        mapper.map_dma(&mut high, 0..512, Direction::ToDevice),
    )?;
    ensure!(
        mapping.is_bounced(0) == Some(true) && mapping.dma_addr() + 511 <= edu::MASK,
        "a range above edu's mask was mapped at {:#x}",
        mapping.dma_addr()
    );
    edu.transfer(mapping.dma_addr(), INTERNAL, 512)?;
    mapping.unmap();
    let mut back = vec![0u8; 512];
    let mapping = expect_ok(
        "map back",
        mapper.map_single(&mut back, Direction::FromDevice),
    )?;
    edu.transfer(INTERNAL, mapping.dma_addr(), 512)?;
    mapping.unmap();
    ensure!(
        back.iter()
            .enumerate()
            .all(|(index, byte)| *byte == pattern(index, 99)),
        "the bounced bytes did not reach the device"
    );
    Ok(())
}

/// Misuse is an error that maps and copies nothing: an empty segment, a range outside or
/// reversed in its buffer, no segments, too many, a pointer whose end overflows, and a
/// bounce the constraints can never meet (dma-api0 under a 32-bit mask) are `EINVAL`; the
/// pool's live buffers and the mapper's counters stay as they were, and a good mapping
/// afterwards works.
pub fn streaming_misuse_is_refused_without_effect() -> Outcome {
    let mapper = StreamMapper::new(DEVICE);
    let before = stats::read(DEVICE)?.live_buffers;
    let mut empty: [u8; 0] = [];
    expect_errno(
        "zero-length segment",
        mapper.map_single(&mut empty, Direction::ToDevice),
        EINVAL,
    )?;
    let mut own = expect_ok("own buffer", Dma::<[u8]>::zeroed_slice(DEVICE, PAGE))?;
    expect_errno(
        "range past the buffer",
        mapper.map_dma(&mut own, 4000..4097, Direction::ToDevice),
        EINVAL,
    )?;
    #[allow(clippy::reversed_empty_ranges, reason = "the misuse under test")]
    let reversed = 200..100;
    expect_errno(
        "reversed range",
        mapper.map_dma(&mut own, reversed, Direction::ToDevice),
        EINVAL,
    )?;
    expect_errno(
        "range starting at usize::MAX",
        mapper.map_dma(&mut own, usize::MAX..usize::MAX, Direction::ToDevice),
        EINVAL,
    )?;
    expect_errno(
        "no segments",
        mapper.map_sg(Vec::new(), Direction::ToDevice),
        EINVAL,
    )?;
    let mut many = [0u8; 65];
    let segments: Vec<Segment<'_>> = many.chunks_mut(1).map(Segment::Memory).collect();
    expect_errno(
        "65 segments",
        mapper.map_sg(segments, Direction::ToDevice),
        EINVAL,
    )?;
    let wrapping = NonNull::slice_from_raw_parts(
        NonNull::new((usize::MAX - 100) as *mut u8).expect("not null"),
        4096,
    );
    // SAFETY: the mapping is refused before any byte is read (its end overflows); were it
    // not, the test would fault, not corrupt.
    let overflowing = unsafe { mapper.map_raw(wrapping, Direction::ToDevice) };
    expect_errno("pointer whose end overflows", overflowing, EINVAL)?;
    let high_mapper = StreamMapper::with_constraints(
        HIGH_DEVICE,
        DmaConstraints {
            mask: Some(0xffff_ffff),
            ..DmaConstraints::default()
        },
    );
    let mut high = expect_ok(
        "dma-api0 buffer",
        Dma::<[u8]>::zeroed_slice(HIGH_DEVICE, PAGE),
    )?;
    let high_live = stats::read(HIGH_DEVICE)?.live_buffers;
    expect_errno(
        "a bounce no dma-api0 buffer can meet",
        high_mapper.map_dma(&mut high, 0..64, Direction::ToDevice),
        EINVAL,
    )?;
    ensure!(
        stats::read(HIGH_DEVICE)?.live_buffers == high_live,
        "a refused bounce left a dma-api0 buffer behind"
    );
    ensure!(
        mapper.counters() == StreamCounters::default()
            && stats::read(DEVICE)?.live_buffers == before + 1,
        "refused mappings changed something: {:?}",
        mapper.counters()
    );
    let mut bytes: Vec<u8> = (0..300).map(|index| pattern(index, 1)).collect();
    let mapping = expect_ok(
        "a good mapping afterwards",
        mapper.map_single(&mut bytes, Direction::Bidirectional),
    )?;
    mapping.unmap();
    ensure!(
        bytes
            .iter()
            .enumerate()
            .all(|(index, byte)| *byte == pattern(index, 1)),
        "a bidirectional bounce changed bytes the device never wrote"
    );
    Ok(())
}

/// Bounce buffers are reused and the idle cache is bounded: twenty transfers of one segment
/// allocate one buffer; ten segments at once allocate nine more and leave
/// `BOUNCE_CACHE_LIMIT` idle; dropping the mapper returns every one to the pool.
pub fn bounce_buffers_are_reused_and_bounded() -> Outcome {
    let before = stats::read(DEVICE)?.live_buffers;
    let mapper = StreamMapper::new(DEVICE);
    let mut bytes = vec![7u8; 1000];
    for _ in 0..20 {
        let mapping = expect_ok("map", mapper.map_single(&mut bytes, Direction::ToDevice))?;
        mapping.unmap();
    }
    ensure!(
        mapper.counters().allocated == 1 && mapper.idle_bounce_buffers() == 1,
        "twenty transfers: {:?}, {} idle",
        mapper.counters(),
        mapper.idle_bounce_buffers()
    );
    let mut memory = vec![0u8; 10 * 512];
    let segments: Vec<Segment<'_>> = memory.chunks_mut(512).map(Segment::Memory).collect();
    let mapping = expect_ok("map ten", mapper.map_sg(segments, Direction::FromDevice))?;
    let mut addresses: Vec<u64> = mapping
        .device_segments()
        .map(|(address, _)| address)
        .collect();
    addresses.sort_unstable();
    addresses.dedup();
    ensure!(addresses.len() == 10, "ten segments share bounce buffers");
    ensure!(
        stats::read(DEVICE)?.live_buffers == before + 10,
        "ten live bounce buffers expected"
    );
    mapping.unmap();
    ensure!(
        mapper.counters().allocated == 10 && mapper.idle_bounce_buffers() == BOUNCE_CACHE_LIMIT,
        "after ten: {:?}, {} idle",
        mapper.counters(),
        mapper.idle_bounce_buffers()
    );
    drop(mapper);
    let after = stats::read(DEVICE)?.live_buffers;
    ensure!(
        after == before,
        "live buffers {before} before, {after} after the mapper is gone"
    );
    Ok(())
}

/// Through edu, with one bounce buffer reused by both mappings: a `Bidirectional` mapping
/// is read by the device (it sees the caller's bytes) and partly written back (the first
/// 256 bytes come back from the device, the rest stay the caller's); a `FromDevice` mapping
/// the device writes only 100 bytes of keeps the caller's other bytes, not what the reused
/// bounce buffer held before (the reason bounces are filled in every direction).
pub fn partial_device_writes_keep_the_callers_other_bytes() -> Outcome {
    let edu = Edu::open()?;
    let constraints = DmaConstraints {
        mask: Some(edu::MASK),
        ..DmaConstraints::default()
    };
    let mapper = StreamMapper::with_constraints(edu::DEVICE, constraints);
    let original: Vec<u8> = (0..1024).map(|index| pattern(index, 77)).collect();
    let mut both = original.clone();
    let mapping = expect_ok(
        "map bidirectional",
        mapper.map_single(&mut both, Direction::Bidirectional),
    )?;
    edu.transfer(mapping.dma_addr(), INTERNAL, 1024)?;
    edu.transfer(INTERNAL + 512, mapping.dma_addr(), 256)?;
    mapping.unmap();
    ensure!(
        both[..256] == original[512..768] && both[256..] == original[256..],
        "a bidirectional mapping did not bring back exactly the device's 256 bytes"
    );
    let mut partial = vec![0x33u8; 1024];
    let mapping = expect_ok(
        "map from the device",
        mapper.map_single(&mut partial, Direction::FromDevice),
    )?;
    edu.transfer(INTERNAL, mapping.dma_addr(), 100)?;
    mapping.unmap();
    ensure!(
        partial[..100] == original[..100],
        "the device's 100 bytes did not arrive"
    );
    ensure!(
        partial[100..].iter().all(|byte| *byte == 0x33),
        "bytes the device did not write changed (a stale bounce buffer leaked)"
    );
    ensure!(
        mapper.counters().allocated == 1,
        "the second mapping did not reuse the bounce buffer: {:?}",
        mapper.counters()
    );
    Ok(())
}

/// The typed hand-off on a real device: a buffer of edu's pool is written by the CPU, lent
/// to edu (only its device address visible), copied by edu within itself, and reclaimed;
/// the CPU then reads what edu wrote.
pub fn lend_and_reclaim_around_a_device_write() -> Outcome {
    let edu = Edu::open()?;
    let constraints = DmaConstraints {
        mask: Some(edu::MASK),
        ..DmaConstraints::default()
    };
    let mut buffer = expect_ok(
        "edu buffer",
        Dma::<[u8]>::zeroed_slice_with(edu::DEVICE, PAGE, constraints),
    )?;
    for (index, byte) in buffer[..1024].iter_mut().enumerate() {
        *byte = pattern(index, 42);
    }
    let lent = buffer.lend_to_device();
    let address = lent.dma_addr();
    edu.transfer(address, INTERNAL, 1024)?;
    edu.transfer(INTERNAL, address + 2048, 1024)?;
    let buffer = lent.reclaim();
    let copied = &buffer[2048..3072];
    ensure!(
        copied
            .iter()
            .enumerate()
            .all(|(index, byte)| *byte == pattern(index, 42)),
        "edu's write is not what the CPU reads after reclaim"
    );
    ensure!(
        buffer[1024..2048].iter().all(|byte| *byte == 0),
        "edu wrote outside its range: {}",
        format!("{:?}", &buffer[1024..1040])
    );
    Ok(())
}
