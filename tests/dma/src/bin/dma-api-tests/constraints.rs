//! Address constraints on `dma:` allocations: `mask`, `boundary` and `align` keys.

use alloc::format;
use alloc::vec::Vec;
use dma_tests::buffer::Buffer;
use dma_tests::check::expect_refused;
use dma_tests::text::{read_text, value_of};
use dma_tests::{stats, translate, DEVICE, PAGE_SIZE};
use process_tests::check::{errno_name, expect_errno, expect_ok, Outcome};
use process_tests::ensure;
use userlib::dma::{Dma, DmaConstraints};
use userlib::sys::{self, error::EINVAL};

/// The pool whose device addresses are physical + 4 GiB.
pub const HIGH_DEVICE: &str = "dma-api0";

/// Checks one buffer against a mask and a boundary.
fn expect_within(what: &str, buffer: &Buffer, mask: u64, boundary: Option<u64>) -> Outcome {
    let info = buffer.info();
    let last = info.device_address + info.size - 1;
    ensure!(
        last <= mask,
        "{what}: {:#x}..={last:#x} is not below the mask {mask:#x}",
        info.device_address
    );
    if let Some(boundary) = boundary {
        ensure!(
            info.device_address / boundary == last / boundary,
            "{what}: {:#x}..={last:#x} crosses a multiple of {boundary:#x}",
            info.device_address
        );
    }
    Ok(())
}

/// A 32-bit device (`mask=0xffffffff`) gets buffers wholly below 4 GiB from the default pool.
pub fn a_32_bit_mask_gets_a_buffer_below_4_gib() -> Outcome {
    for pages in [1usize, 3, 16] {
        let path = format!(
            "dma:/{DEVICE}/alloc?size={}&mask=0xffffffff",
            pages * PAGE_SIZE
        );
        let buffer = expect_ok(&path, Buffer::open(&path))?;
        expect_within(&path, &buffer, 0xffff_ffff, None)?;
    }
    Ok(())
}

/// `dma-api0` lies above 4 GiB in device addresses: a 32-bit mask can never be met there,
/// so it is `EINVAL` (not `ENOMEM`) and the pool does not change.
pub fn a_mask_below_the_pool_is_einval() -> Outcome {
    for mask in ["0xffffffff", "0x7fffffff", "0xfff"] {
        let path = format!("dma:/{HIGH_DEVICE}/alloc?size=4096&mask={mask}");
        let before = stats::read(HIGH_DEVICE)?;
        expect_errno(&path, Buffer::open(&path), EINVAL)?;
        stats::settle(HIGH_DEVICE, before, &format!("after {path}"))?;
    }
    Ok(())
}

/// A 40-bit mask covers all of `dma-api0` (physical + 4 GiB is far below 1 TiB): met, and
/// the buffer's device address is above 4 GiB as declared.
pub fn a_mask_covering_the_pool_is_met() -> Outcome {
    let mask = (1u64 << 40) - 1;
    let path = format!("dma:/{HIGH_DEVICE}/alloc?size=8192&mask={mask:#x}");
    let buffer = expect_ok(&path, Buffer::open(&path))?;
    expect_within(&path, &buffer, mask, None)?;
    ensure!(
        buffer.info().device_address >= 1 << 32,
        "{path}: device address {:#x} is below the declared 4 GiB offset",
        buffer.info().device_address
    );
    Ok(())
}

/// Buffers of 1..16 pages asked for with a 64 KiB boundary (held together, so they spread
/// over the pool) never cross a multiple of it.
pub fn boundaries_are_never_crossed() -> Outcome {
    let boundary = 0x1_0000u64;
    let mut held = Vec::new();
    for round in 0..24usize {
        let pages = 1 + round % 16;
        let path = format!(
            "dma:/{DEVICE}/alloc?size={}&boundary={boundary:#x}",
            pages * PAGE_SIZE
        );
        let buffer = expect_ok(&path, Buffer::open(&path))?;
        expect_within(&path, &buffer, u64::MAX, Some(boundary))?;
        held.push(buffer);
    }
    for buffer in held {
        expect_ok("close", buffer.close())?;
    }
    Ok(())
}

/// A boundary smaller than the (rounded) buffer can never be met: `EINVAL`, pool unchanged.
pub fn a_boundary_smaller_than_the_buffer_is_einval() -> Outcome {
    for request in [
        "size=0x2000&boundary=0x1000",
        "size=0x3000&boundary=0x2000",
        "size=0x10001&boundary=0x10000",
    ] {
        let path = format!("dma:/{DEVICE}/alloc?{request}");
        expect_refused(&path, EINVAL, || Buffer::open(&path))?;
    }
    Ok(())
}

/// Masks not of the form `2^n - 1` (or under a page), boundaries that are not powers of
/// two, and repeated keys are `EINVAL`; the pool does not change.
pub fn malformed_masks_and_boundaries_are_einval() -> Outcome {
    for request in [
        "size=4096&mask=0x12345678",
        "size=4096&mask=0x7ff",
        "size=4096&mask=0",
        "size=4096&mask=lots",
        "size=4096&boundary=0x3000",
        "size=4096&boundary=0",
        "size=4096&boundary=0x10000&boundary=0x10000",
    ] {
        let path = format!("dma:/{DEVICE}/alloc?{request}");
        expect_refused(&path, EINVAL, || Buffer::open(&path))?;
    }
    Ok(())
}

/// `align` larger than the buffer is honoured together with a mask and a boundary.
pub fn large_alignments_are_honoured() -> Outcome {
    for align in [0x1_0000u64, 0x10_0000] {
        let path = format!(
            "dma:/{DEVICE}/alloc?size=4096&align={align:#x}&mask=0xffffffff&boundary=0x10000"
        );
        let buffer = expect_ok(&path, Buffer::open(&path))?;
        ensure!(
            buffer.info().device_address.is_multiple_of(align),
            "{path}: device address {:#x} is not aligned",
            buffer.info().device_address
        );
        expect_within(&path, &buffer, 0xffff_ffff, Some(0x1_0000))?;
    }
    Ok(())
}

/// A constrained buffer of the default pool (declared without `cache`: write-combining) is
/// mapped write-combining, as the kernel's live page tables show, on the frames at its
/// device address (device offset 0).
pub fn default_pool_maps_write_combining_in_the_tables() -> Outcome {
    let pid = expect_ok("getpid", sys::getpid())?;
    let path = format!("dma:/{DEVICE}/alloc?size=8192&mask=0xffffffff&boundary=0x10000");
    let buffer = expect_ok(&path, Buffer::open(&path))?;
    let mapping = expect_ok("fmap", buffer.map_all())?;
    for page in 0..2 {
        translate::expect_write_combining(
            pid,
            mapping.address() + page * PAGE_SIZE,
            buffer.info().device_address + (page * PAGE_SIZE) as u64,
        )?;
    }
    expect_ok("funmap", mapping.unmap())?;
    Ok(())
}

/// userlib's `Dma::zeroed_slice_with` sends its constraints: met on the default pool,
/// refused (`EINVAL`) where the mask cannot be met.
pub fn userlib_constraints_reach_dmad() -> Outcome {
    let constraints = DmaConstraints {
        align: Some(0x4_0000),
        mask: Some(0xffff_ffff),
        boundary: Some(0x4_0000),
    };
    let buffer = expect_ok(
        "zeroed_slice_with",
        Dma::<[u8]>::zeroed_slice_with(DEVICE, 3 * PAGE_SIZE, constraints),
    )?;
    let address = buffer.dma_addr();
    ensure!(
        address.is_multiple_of(0x4_0000) && address + 4 * PAGE_SIZE as u64 - 1 <= 0xffff_ffff,
        "zeroed_slice_with: device address {address:#x} breaks the constraints"
    );
    ensure!(
        buffer.iter().all(|byte| *byte == 0),
        "zeroed_slice_with: the buffer is not zeroed"
    );
    drop(buffer);
    let high = DmaConstraints {
        mask: Some(0xffff_ffff),
        ..DmaConstraints::default()
    };
    expect_errno(
        "zeroed_slice_with a 32-bit mask on dma-api0",
        Dma::<[u8]>::zeroed_slice_with(HIGH_DEVICE, PAGE_SIZE, high).map(|_| ()),
        EINVAL,
    )
}

/// `dma:/DEV/stats` names each pool's cache type: both pools of this image are declared
/// without `cache`, so both are write-combining.
pub fn stats_show_each_pools_cache_type() -> Outcome {
    for device in [DEVICE, HIGH_DEVICE] {
        let path = stats::path(device);
        let text = read_text(&path)
            .map_err(|error| format!("read {path}: {}", errno_name(error.errno)))?;
        let cache = value_of(&text, "cache-type");
        ensure!(
            cache == Some("write-combining"),
            "{path}: cache-type {cache:?}, expected write-combining"
        );
    }
    Ok(())
}
