//! `iommu-tests`: the `iommu` guest suite — devices confined by the IOMMU, with QEMU's `edu`
//! DMA engine as the weapon (granted `edu0`, and `virtio-blk0` for "another device's
//! buffer"). The kernel's side is read from `sys:iommu` (each domain's mappings, walked from
//! the hardware tables, and the faults recorded). In order:
//!
//! 1. `every_device_has_a_domain`: an IOMMU confines DMA; edu0 and virtio-blk0 each have one;
//! 2. `only_dmad_may_program_domains`: `iommu:edu0` is `EACCES` for this program;
//! 3. `domains_hold_exactly_the_live_buffers`: each device's domain maps exactly its buffers;
//! 4. `edu_dma_into_its_own_buffer_works`: memory → edu → memory inside its buffer;
//! 5. `edu_cannot_write_another_devices_buffer`: blocked, reported, the buffer unchanged;
//! 6. `edu_cannot_write_ordinary_memory`: a page of this process (kernel frames): blocked,
//!    reported at its physical address, unchanged;
//! 7. `edu_cannot_read_kernel_memory`: the kernel image's first page: blocked, reported;
//! 8. `edu_cannot_use_an_unmapped_iova`: the page after its buffer: blocked, reported;
//! 9. `a_released_buffer_is_unreachable_before_reuse`: after release the old IOVA faults
//!    (the IOTLB entry the last transfer cached was invalidated) and the pages come back
//!    zeroed, untouched by the stale transfer;
//! 10. `a_fault_storm_does_not_stall_the_kernel`: 20 blocked transfers, every fault counted,
//!     the clock and a good transfer still go;
//! 11. `the_holder_learns_its_devices_faults`: after a blocked write, a `faults` call on this
//!     program's `device:edu0` handle counts it and names its address and direction; another
//!     process granted edu0 cannot open it (`EBUSY`: this program holds it), one not granted
//!     gets `EACCES` — each is this program run as `--stranger`, which exits with the errno
//!     of its open (0 if it could read the record).
#![no_std]
#![no_main]

extern crate alloc;

mod edu;
use dma_tests::iommu as listing;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use edu::{Edu, INTERNAL};
use process_tests::check::{expect_ending, expect_errno, Outcome};
use process_tests::runner::Suite;
use process_tests::{child, ensure};
use userlib::dma::Dma;
use userlib::sys::{self, error::EACCES, error::EBUSY, flag::O_RDWR, Ending};
use userlib::Args;

userlib::entry!(main);

/// This program (run again as `--stranger`).
const PROGRAM: &str = "/bin/iommu-tests";

/// The kernel image's first page on q35 (the linker script's load address).
const KERNEL_IMAGE: u64 = 0x20_0000;

fn main(args: Args) -> i32 {
    if args.get(1) == Some("--stranger") {
        return stranger();
    }
    let mut suite = Suite::new("iommu");
    suite.run("every_device_has_a_domain", every_device_has_a_domain);
    suite.run(
        "only_dmad_may_program_domains",
        only_dmad_may_program_domains,
    );
    suite.run(
        "domains_hold_exactly_the_live_buffers",
        domains_hold_exactly_the_live_buffers,
    );
    suite.run(
        "edu_dma_into_its_own_buffer_works",
        edu_dma_into_its_own_buffer_works,
    );
    suite.run(
        "edu_cannot_write_another_devices_buffer",
        edu_cannot_write_another_devices_buffer,
    );
    suite.run(
        "edu_cannot_write_ordinary_memory",
        edu_cannot_write_ordinary_memory,
    );
    suite.run(
        "edu_cannot_read_kernel_memory",
        edu_cannot_read_kernel_memory,
    );
    suite.run(
        "edu_cannot_use_an_unmapped_iova",
        edu_cannot_use_an_unmapped_iova,
    );
    suite.run(
        "a_released_buffer_is_unreachable_before_reuse",
        a_released_buffer_is_unreachable_before_reuse,
    );
    suite.run(
        "a_fault_storm_does_not_stall_the_kernel",
        a_fault_storm_does_not_stall_the_kernel,
    );
    suite.run(
        "the_holder_learns_its_devices_faults",
        the_holder_learns_its_devices_faults,
    );
    suite.finish()
}

/// `--stranger`: opens `device:edu0` and reads its fault record; exits with the open's or the
/// call's errno, 0 if it read the record.
fn stranger() -> i32 {
    match sys::open("device:edu0", O_RDWR) {
        Ok(fd) => match edu::faults_through(fd) {
            Ok(_) => 0,
            Err(error) => error.errno,
        },
        Err(error) => error.errno,
    }
}

fn the_holder_learns_its_devices_faults() -> Outcome {
    let edu = Edu::open()?;
    let own = buffer("edu0", 4096)?;
    let before = edu.faults()?;
    let target = own.dma_addr() + 0x2000;
    edu.transfer(INTERNAL, target, 64)?;
    let after = edu.faults()?;
    ensure!(
        after.count > before.count,
        "the record did not count the blocked write: {before:?} then {after:?}"
    );
    ensure!(
        after
            .last
            .is_some_and(|(address, write)| write && address & !0xfff == target & !0xfff),
        "the last fault is {:x?}, not a write at {target:#x}",
        after.last
    );
    expect_ending(
        "a granted stranger",
        child::run_as("iommu-stranger", PROGRAM, &["--stranger"])?,
        Ending::Exited(EBUSY),
    )?;
    expect_ending(
        "an ungranted stranger",
        child::run(PROGRAM, &["--stranger"])?,
        Ending::Exited(EACCES),
    )
}

fn buffer(device: &str, bytes: usize) -> Result<Dma<[u8]>, String> {
    Dma::<[u8]>::zeroed_slice(device, bytes).map_err(|e| format!("dma:/{device}/alloc: {e}"))
}

fn every_device_has_a_domain() -> Outcome {
    let text = listing::read()?;
    ensure!(
        text.starts_with("iommu ") && !text.starts_with("iommu none"),
        "no IOMMU confines DMA: {text:?}"
    );
    for device in ["edu0", "virtio-blk0"] {
        ensure!(
            listing::on_pci(device),
            "{device} is not a PCI function (sys:devices), so no IOMMU can confine it"
        );
        ensure!(
            listing::mappings(&text, device).is_some(),
            "{device} has no domain in {text:?}"
        );
    }
    Ok(())
}

fn only_dmad_may_program_domains() -> Outcome {
    expect_errno("open iommu:edu0", sys::open("iommu:edu0", O_RDWR), EACCES)
}

fn domains_hold_exactly_the_live_buffers() -> Outcome {
    let before = listing::read()?;
    ensure!(
        listing::mappings(&before, "edu0") == Some(vec![]),
        "edu0's domain is not empty before any buffer: {before:?}"
    );
    let edu_buffer = buffer("edu0", 8192)?;
    let blk_buffer = buffer("virtio-blk0", 4096)?;
    let text = listing::read()?;
    let edu = listing::mappings(&text, "edu0").unwrap_or_default();
    let blk = listing::mappings(&text, "virtio-blk0").unwrap_or_default();
    ensure!(
        edu.len() == 1 && edu[0].0 == edu_buffer.dma_addr() && edu[0].2 == 8192,
        "edu0 maps {edu:x?}, not exactly its buffer at {:#x}",
        edu_buffer.dma_addr()
    );
    ensure!(
        blk.len() == 1 && blk[0].0 == blk_buffer.dma_addr() && blk[0].2 == 4096,
        "virtio-blk0 maps {blk:x?}, not exactly its buffer at {:#x}",
        blk_buffer.dma_addr()
    );
    drop(edu_buffer);
    drop(blk_buffer);
    // A close reaches dmad as a one-way message: it unmaps when it handles it, a moment
    // after `drop` returns, so look again for up to two seconds.
    let mut after = String::new();
    for _ in 0..200 {
        after = listing::read()?;
        if listing::mappings(&after, "edu0") == Some(vec![])
            && listing::mappings(&after, "virtio-blk0") == Some(vec![])
        {
            return Ok(());
        }
        edu::sleep(core::time::Duration::from_millis(10));
    }
    Err(format!("released buffers are still mapped: {after:?}"))
}

fn edu_dma_into_its_own_buffer_works() -> Outcome {
    let edu = Edu::open()?;
    let mut own = buffer("edu0", 8192)?;
    for (index, byte) in own[..256].iter_mut().enumerate() {
        *byte = index as u8 ^ 0xa5;
    }
    edu.transfer(own.dma_addr(), INTERNAL, 256)?;
    edu.transfer(INTERNAL, own.dma_addr() + 4096, 256)?;
    let (first, second) = own.split_at(4096);
    ensure!(
        first[..256] == second[..256],
        "the copy through edu differs: {:x?}",
        &second[..16]
    );
    Ok(())
}

/// Makes edu write its buffer to `target` and expects a blocked write reported there.
fn blocked_write(edu: &Edu, target: u64) -> Outcome {
    let before = listing::fault_count(&listing::read()?);
    edu.transfer(INTERNAL, target, 64)?;
    let text = listing::read()?;
    ensure!(
        listing::fault_count(&text) > before,
        "no fault recorded for a write to {target:#x}: {text:?}"
    );
    ensure!(
        listing::has_fault(&text, &edu.source, "write", target),
        "no fault of {} writing {target:#x} listed: {text:?}",
        edu.source
    );
    Ok(())
}

fn edu_cannot_write_another_devices_buffer() -> Outcome {
    let edu = Edu::open()?;
    let mut own = buffer("edu0", 4096)?;
    own[..64].fill(0xee);
    edu.transfer(own.dma_addr(), INTERNAL, 64)?;
    let mut other = buffer("virtio-blk0", 4096)?;
    other[..64].fill(0x5a);
    blocked_write(&edu, other.dma_addr())?;
    ensure!(
        other[..64].iter().all(|byte| *byte == 0x5a),
        "virtio-blk0's buffer changed: {:x?}",
        &other[..16]
    );
    Ok(())
}

fn edu_cannot_write_ordinary_memory() -> Outcome {
    let edu = Edu::open()?;
    let mut memory = vec![0x3cu8; 3 * 4096];
    let start = (memory.as_ptr() as usize).next_multiple_of(4096);
    let offset = start - memory.as_ptr() as usize;
    let pid = sys::getpid().map_err(|e| format!("getpid: {e}"))?;
    let text = sys::read_file(&format!("sys:translate/{pid}/{start:x}"))
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|e| format!("sys:translate: {e}"))?;
    let physical = text
        .split_whitespace()
        .skip_while(|word| *word != "physical")
        .nth(1)
        .and_then(|value| u64::from_str_radix(value.trim_start_matches("0x"), 16).ok())
        .ok_or_else(|| format!("sys:translate says {text:?}"))?;
    blocked_write(&edu, physical)?;
    memory[0] = 0x3c;
    ensure!(
        memory[offset..offset + 4096]
            .iter()
            .all(|byte| *byte == 0x3c),
        "process memory at {physical:#x} changed"
    );
    Ok(())
}

fn edu_cannot_read_kernel_memory() -> Outcome {
    let edu = Edu::open()?;
    let before = listing::fault_count(&listing::read()?);
    edu.transfer(KERNEL_IMAGE, INTERNAL, 64)?;
    let text = listing::read()?;
    ensure!(
        listing::fault_count(&text) > before
            && listing::has_fault(&text, &edu.source, "read", KERNEL_IMAGE),
        "no fault of {} reading {KERNEL_IMAGE:#x}: {text:?}",
        edu.source
    );
    Ok(())
}

fn edu_cannot_use_an_unmapped_iova() -> Outcome {
    let edu = Edu::open()?;
    let own = buffer("edu0", 4096)?;
    blocked_write(&edu, own.dma_addr() + 4096)
}

fn a_released_buffer_is_unreachable_before_reuse() -> Outcome {
    let edu = Edu::open()?;
    let mut first = buffer("edu0", 4096)?;
    first[..64].fill(0x77);
    // A good transfer first, so the IOMMU's IOTLB holds the translation.
    edu.transfer(first.dma_addr(), INTERNAL, 64)?;
    edu.transfer(INTERNAL, first.dma_addr() + 64, 64)?;
    ensure!(
        first[64..128].iter().all(|b| *b == 0x77),
        "the good transfer failed"
    );
    let iova = first.dma_addr();
    drop(first);
    blocked_write(&edu, iova)?;
    let again = buffer("edu0", 4096)?;
    ensure!(
        again.dma_addr() != iova || again[..128].iter().all(|byte| *byte == 0),
        "the reused pages hold data from a stale transfer"
    );
    Ok(())
}

fn a_fault_storm_does_not_stall_the_kernel() -> Outcome {
    let edu = Edu::open()?;
    let own = buffer("edu0", 4096)?;
    let before = listing::fault_count(&listing::read()?);
    let start = sys_uptime()?;
    for index in 0..20u64 {
        edu.transfer(INTERNAL, own.dma_addr() + 0x10_0000 + index * 4096, 8)?;
    }
    let text = listing::read()?;
    let faults = listing::fault_count(&text) - before;
    ensure!(faults >= 1, "the storm recorded no fault");
    let end = sys_uptime()?;
    ensure!(end > start, "the clock stood still");
    edu.transfer(own.dma_addr(), INTERNAL, 8)?;
    userlib::println!("storm: 20 blocked transfers, {faults} faults recorded");
    Ok(())
}

fn sys_uptime() -> Result<u64, String> {
    let text = sys::read_file("sys:uptime").map_err(|e| format!("sys:uptime: {e}"))?;
    String::from_utf8_lossy(&text)
        .split_whitespace()
        .nth(1)
        .and_then(|value| value.parse().ok())
        .ok_or_else(|| String::from("sys:uptime unreadable"))
}
