//! Coherency per device: each pool's declared cache type in the live page tables and in
//! dmad's answers, and `SYS_DMA_SYNC` (userlib's `Dma::sync_for_device` / `sync_for_cpu`):
//! its refusals, and a real device round trip through a write-back buffer.
//!
//! The manifest (`user::DMA_API_TEST_MANIFEST`) declares `edu0`'s pool `cache = "wb"`
//! (QEMU's edu DMA engine, 32 address bits, below 4 GiB), `dma-api-uc`'s `cache = "uc"`, and
//! leaves the default pool (`virtio-blk0`) write-combining.

use crate::edu::{Edu, INTERNAL};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use dma_tests::buffer::{Buffer, CACHE_DEVICE};
use dma_tests::text::{read_text, value_of};
use dma_tests::translate::{self, Translation};
use dma_tests::{stats, DEVICE, PAGE_SIZE};
use process_tests::check::{errno_name, expect_errno, expect_ok, Outcome};
use process_tests::ensure;
use process_tests::runner::Suite;
use userlib::dma::{sync_raw, Dma};
use userlib::sys::error::{EFAULT, EINVAL};
use userlib::sys::{self, Map, MapFlags};

/// The device whose pool is declared write-back: QEMU's edu.
pub const WRITE_BACK_DEVICE: &str = "edu0";
/// The device whose pool is declared uncached (no such hardware: addresses only).
pub const UNCACHED_DEVICE: &str = "dma-api-uc";

/// `SYS_DMA_SYNC` direction codes (`kernel_core::dma_sync::SyncDirection`).
const TO_DEVICE: usize = 1;
const FOR_CPU: usize = 2;
const BIDIRECTIONAL: usize = 3;

/// Adds this module's tests to `suite`.
pub fn register(suite: &mut Suite) {
    suite.run(
        "each_pool_maps_with_its_declared_type",
        each_pool_maps_with_its_declared_type,
    );
    suite.run(
        "bad_syncs_are_refused_and_change_nothing",
        bad_syncs_are_refused_and_change_nothing,
    );
    suite.run(
        "syncs_keep_every_byte_on_every_pool",
        syncs_keep_every_byte_on_every_pool,
    );
    suite.run(
        "edu_round_trip_through_a_write_back_buffer",
        edu_round_trip_through_a_write_back_buffer,
    );
}

/// Each test pool, its memory type's name in `sys:translate` and dmad's stats, and its code
/// in the buffer descriptor.
const POOLS: [(&str, &str, u32); 3] = [
    (WRITE_BACK_DEVICE, "write-back", 0),
    (DEVICE, "write-combining", 1),
    (UNCACHED_DEVICE, "uncached", 2),
];

/// Every pool's buffers are mapped with the pool's declared type, page by page, in the
/// tables the kernel walks (`sys:translate`), twice over for two mappings of one buffer (a
/// frame never gets two types); the descriptor and `dma:/DEV/stats` say the same type.
pub fn each_pool_maps_with_its_declared_type() -> Outcome {
    let pid = expect_ok("getpid", sys::getpid())?;
    for (device, name, code) in POOLS {
        ensure!(code != CACHE_DEVICE, "a pool cannot be device memory");
        let buffer = expect_ok(device, Buffer::allocate(device, 2 * PAGE_SIZE))?;
        let info = buffer.info();
        ensure!(
            info.cache_type == code,
            "{device}: the descriptor says cache type {}, declared {name} ({code})",
            info.cache_type
        );
        let first = expect_ok("fmap", buffer.map_all())?;
        let second = expect_ok("fmap again", buffer.map_all())?;
        for mapping in [&first, &second] {
            for page in 0..2 {
                let address = mapping.address() + page * PAGE_SIZE;
                let expected = Translation::Mapped {
                    physical: info.device_address + (page * PAGE_SIZE) as u64,
                    cache: String::from(name),
                    user: true,
                    writable: true,
                };
                let found = translate::query(pid, address)?;
                ensure!(
                    found == expected,
                    "{device}: page at {address:#x} is {found:?}, expected {expected:?}"
                );
            }
        }
        let path = stats::path(device);
        let text = read_text(&path)
            .map_err(|error| format!("read {path}: {}", errno_name(error.errno)))?;
        let shown = value_of(&text, "cache-type");
        ensure!(
            shown == Some(name),
            "{path}: cache-type {shown:?}, declared {name}"
        );
    }
    Ok(())
}

/// A bad sync is refused with its errno and touches nothing: unknown directions and
/// overflowing or oversized ranges `EINVAL`; the kernel half, an unmapped range and an
/// invalidation of a read-only mapping `EFAULT` (cleaning it is fine); the buffer's bytes
/// are as written afterwards. userlib refuses a sub-range past the buffer (`EINVAL`).
pub fn bad_syncs_are_refused_and_change_nothing() -> Outcome {
    let buffer = expect_ok("allocate", Buffer::allocate(WRITE_BACK_DEVICE, PAGE_SIZE))?;
    let mapping = expect_ok("fmap", buffer.map_all())?;
    let pattern = |index: usize| 0xc0de_0000_0000_0000 | index as u64;
    mapping.fill(pattern);
    let address = mapping.address();
    for direction in [0, 4, 0x100, usize::MAX] {
        expect_errno(
            &format!("direction {direction:#x}"),
            sync_raw(address, 64, direction),
            EINVAL,
        )?;
    }
    expect_errno(
        "a range that wraps",
        sync_raw(usize::MAX - 15, 64, TO_DEVICE),
        EINVAL,
    )?;
    expect_errno("65 MiB", sync_raw(address, 65 << 20, TO_DEVICE), EINVAL)?;
    expect_errno(
        "the kernel half",
        sync_raw(0xffff_8000_0000_0000, 64, TO_DEVICE),
        EFAULT,
    )?;
    // A range running one byte past the mapping into a page that is not ours any more.
    let gone = expect_ok("allocate", Buffer::allocate(WRITE_BACK_DEVICE, PAGE_SIZE))?;
    let gone_mapping = expect_ok("fmap", gone.map_all())?;
    let gone_address = gone_mapping.address();
    expect_ok("funmap", gone_mapping.unmap())?;
    for direction in [TO_DEVICE, FOR_CPU, BIDIRECTIONAL] {
        expect_errno(
            "an unmapped page",
            sync_raw(gone_address, 64, direction),
            EFAULT,
        )?;
    }
    let read_only = map_read_only(&buffer)?;
    for direction in [FOR_CPU, BIDIRECTIONAL] {
        expect_errno(
            "invalidating a read-only mapping",
            sync_raw(read_only, PAGE_SIZE, direction),
            EFAULT,
        )?;
    }
    expect_ok(
        "cleaning a read-only mapping",
        sync_raw(read_only, PAGE_SIZE, TO_DEVICE),
    )?;
    // SAFETY: `read_only` is the page `map_read_only` mapped; nothing refers into it.
    expect_ok("funmap", unsafe { sys::funmap(read_only, PAGE_SIZE) })?;
    expect_ok("a zero length", sync_raw(address, 0, FOR_CPU))?;
    mapping.expect("the buffer after refused syncs", pattern)?;
    let typed = expect_ok("Dma", Dma::<[u8]>::zeroed_slice(WRITE_BACK_DEVICE, 100))?;
    expect_errno(
        "sync_range_for_cpu past the end",
        typed.sync_range_for_cpu(50, 51),
        EINVAL,
    )?;
    expect_errno(
        "sync_range_for_device overflowing",
        typed.sync_range_for_device(usize::MAX, 2),
        EINVAL,
    )?;
    Ok(())
}

/// Syncing whole buffers and unaligned sub-ranges in every direction, on every pool's
/// buffers and on ordinary (write-back) heap memory, succeeds and keeps every byte: lines
/// only partly in a `for_cpu` range keep the CPU's writes next to it.
pub fn syncs_keep_every_byte_on_every_pool() -> Outcome {
    for (device, _, _) in POOLS {
        let mut buffer = expect_ok(device, Dma::<[u8]>::zeroed_slice(device, 3 * PAGE_SIZE))?;
        for (index, byte) in buffer.iter_mut().enumerate() {
            *byte = (index * 7 + 3) as u8;
        }
        expect_ok("sync_for_device", buffer.sync_for_device())?;
        expect_ok("sync_range_for_cpu", buffer.sync_range_for_cpu(3, 100))?;
        expect_ok(
            "sync_range_for_cpu across pages",
            buffer.sync_range_for_cpu(PAGE_SIZE - 5, PAGE_SIZE + 10),
        )?;
        expect_ok(
            "sync_range_for_device",
            buffer.sync_range_for_device(PAGE_SIZE + 1, 1),
        )?;
        expect_ok("sync_for_cpu", buffer.sync_for_cpu())?;
        let wrong = buffer
            .iter()
            .enumerate()
            .find(|(index, byte)| **byte != (index * 7 + 3) as u8);
        ensure!(
            wrong.is_none(),
            "{device}: byte {wrong:?} changed across syncs"
        );
    }
    let mut heap: Vec<u8> = (0..5000).map(|index| index as u8).collect();
    let address = heap.as_mut_ptr() as usize;
    expect_ok("heap to device", sync_raw(address + 1, 4000, TO_DEVICE))?;
    expect_ok("heap for cpu", sync_raw(address + 9, 3000, FOR_CPU))?;
    expect_ok("heap both", sync_raw(address, 5000, BIDIRECTIONAL))?;
    ensure!(
        heap.iter()
            .enumerate()
            .all(|(index, byte)| *byte == index as u8),
        "heap memory changed across syncs"
    );
    Ok(())
}

/// A real device through a write-back buffer: the CPU fills half a buffer and syncs it for
/// the device, edu copies it into its own memory and back into the other half, the CPU syncs
/// that half for itself and reads exactly what it wrote, and nothing else changed.
pub fn edu_round_trip_through_a_write_back_buffer() -> Outcome {
    let edu = Edu::open()?;
    let mut buffer = expect_ok(
        "allocate",
        Dma::<[u8]>::zeroed_slice(WRITE_BACK_DEVICE, 2 * PAGE_SIZE),
    )?;
    ensure!(
        buffer.info().cache_type == 0,
        "edu0's buffer is not write-back (cache type {})",
        buffer.info().cache_type
    );
    const LENGTH: usize = 1024;
    let pattern = |index: usize| (index * 31 + 5) as u8 ^ 0xa5;
    for (index, byte) in buffer[..LENGTH].iter_mut().enumerate() {
        *byte = pattern(index);
    }
    for byte in buffer[PAGE_SIZE..].iter_mut() {
        *byte = 0x11;
    }
    expect_ok("sync_for_device", buffer.sync_for_device())?;
    edu.transfer(buffer.dma_addr(), INTERNAL, LENGTH as u64)?;
    edu.transfer(
        INTERNAL,
        buffer.dma_addr() + PAGE_SIZE as u64,
        LENGTH as u64,
    )?;
    expect_ok(
        "sync_range_for_cpu",
        buffer.sync_range_for_cpu(PAGE_SIZE, LENGTH),
    )?;
    let copied = &buffer[PAGE_SIZE..PAGE_SIZE + LENGTH];
    let wrong = copied
        .iter()
        .enumerate()
        .find(|(index, byte)| **byte != pattern(*index));
    ensure!(
        wrong.is_none(),
        "the device's copy differs at {wrong:?} (device address {:#x})",
        buffer.dma_addr()
    );
    ensure!(
        buffer[PAGE_SIZE + LENGTH..]
            .iter()
            .all(|byte| *byte == 0x11),
        "bytes after the device's copy changed"
    );
    ensure!(
        buffer[..LENGTH]
            .iter()
            .enumerate()
            .all(|(index, byte)| *byte == pattern(index)),
        "the source half changed"
    );
    Ok(())
}

/// Maps `buffer`'s first page read-only; its address.
fn map_read_only(buffer: &Buffer) -> Result<usize, String> {
    let map = Map {
        offset: 0,
        size: PAGE_SIZE,
        flags: MapFlags::PROT_READ | MapFlags::MAP_SHARED,
        address: 0,
    };
    // SAFETY: a fresh mapping (address 0) of a buffer this process owns.
    expect_ok("fmap read-only", unsafe { sys::fmap(buffer.fd(), &map) })
}
