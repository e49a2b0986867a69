//! An end-to-end check of the machine's IOMMU with QEMU's `edu` device, from the kernel:
//! DMA into a mapped page works both ways; DMA to an unmapped IOVA is blocked, reported with
//! edu's requester id, the address and the direction, and the memory behind it unchanged;
//! after unmap (with its invalidation waited for) the page is unreachable.
//!
//! Runs in the `boot` suite and passes vacuously on machines without an IOMMU or without an
//! `edu` function (`COHERENT_IOMMU=on` gives aarch64 both). edu (PCI 1234:11e8) copies
//! between its 4 KiB buffer at device offset 0x40000 and a DMA address: registers 0x80
//! source, 0x88 destination, 0x90 count, 0x98 command (bit 0 start and busy, bit 1 from edu
//! to RAM).

use crate::ensure;
use crate::memory::{frames, kernel_space, physical_to_virtual};
use crate::platform::Platform;
use crate::testing::{Failure, TestResult};
use kernel_core::iommu::{Access, DomainId, FaultReason, SourceId, PAGE_SIZE};
use kernel_core::CacheType;

const EDU_ID: u32 = 0x11e8_1234;
const EDU_BUFFER: u64 = 0x4_0000;
/// A domain number no device-table place reaches.
const TEST_DOMAIN: DomainId = DomainId(0x7ff0);
const MAPPED_IOVA: u64 = 0x10_0000;
const UNMAPPED_IOVA: u64 = 0x20_0000;

struct Edu {
    registers: u64,
    source: SourceId,
}

impl Edu {
    fn write(&self, offset: u64, value: u64) {
        // SAFETY: `registers` maps edu's 1 MiB BAR 0 as device memory; offsets are its
        // 8-byte DMA registers.
        unsafe { ((self.registers + offset) as *mut u64).write_volatile(value) }
    }

    fn read(&self, offset: u64) -> u64 {
        // SAFETY: as for `write`.
        unsafe { ((self.registers + offset) as *const u64).read_volatile() }
    }

    /// Copies 8 bytes between edu's buffer and `address`, waiting for edu to finish.
    fn dma(&self, address: u64, to_memory: bool) -> TestResult {
        let (source, destination) = if to_memory {
            (EDU_BUFFER, address)
        } else {
            (address, EDU_BUFFER)
        };
        self.write(0x80, source);
        self.write(0x88, destination);
        self.write(0x90, 8);
        self.write(0x98, 1 | (u64::from(to_memory) << 1));
        for _ in 0..200_000_000u64 {
            if self.read(0x98) & 1 == 0 {
                return Ok(());
            }
            core::hint::spin_loop();
        }
        Err(Failure::new(format_args!(
            "edu DMA to {address:#x} never finished"
        )))
    }
}

/// Finds edu on bus 0 of the first PCI host bridge (the device table keeps only functions
/// it has drivers for), maps BAR 0 (the kernel assigned it) and lets edu master the bus.
fn find_edu(platform: &Platform) -> Option<Edu> {
    let host = platform.machine.pci_hosts().next()?;
    (0..32u8).find_map(|device| {
        let physical = host.ecam_base + (u64::from(device) << 15);
        let config = kernel_space::map_device(physical, PAGE_SIZE, CacheType::Device).ok()?;
        let word = |offset: u64| {
            // SAFETY: `config` maps function `00:device.0`'s 4 KiB configuration page.
            unsafe { ((config + offset) as *const u32).read_volatile() }
        };
        if word(0) != EDU_ID {
            return None;
        }
        let bar = u64::from(word(0x10) & !0xf);
        let registers = kernel_space::map_device(bar, 1 << 20, CacheType::Device).ok()?;
        // SAFETY: offset 4 is the command register: memory space and bus master on.
        unsafe { ((config + 4) as *mut u16).write_volatile(0x6) };
        Some(Edu {
            registers,
            source: SourceId::pci(0, device, 0),
        })
    })
}

/// The test; see the module doc.
pub fn edu_dma_is_confined(platform: &Platform) -> TestResult {
    let (Some(iommu), Some(edu)) = (crate::iommu::get(), find_edu(platform)) else {
        log::info!("no IOMMU or no edu device: nothing to confine");
        return Ok(());
    };
    // edu may be a named device with a domain of its own: borrow it, give it back after.
    let home = crate::devices::named_pci_functions()
        .into_iter()
        .find(|(_, _, address)| {
            SourceId::pci(address.bus, address.device, address.function) == edu.source
        })
        .map(|(index, _, _)| crate::iommu::domain_of(index));
    if home.is_some() {
        let _ = iommu.detach(edu.source);
    }
    let page = frames::allocate_zeroed(1)
        .ok_or_else(|| Failure::new(format_args!("no frame for the test page")))?;
    let memory = physical_to_virtual(page.physical) as *mut u64;
    // SAFETY: `page` is a RAM frame this test owns, reached through the linear map.
    let word = |index: usize| unsafe { memory.add(index).read_volatile() };
    // SAFETY: as above.
    unsafe { memory.write_volatile(0x0123_4567_89ab_cdef) };
    let outcome = (|| {
        let fail = |what: &str, error| Failure::new(format_args!("{what}: {error:?}"));
        iommu
            .attach(edu.source, TEST_DOMAIN)
            .map_err(|error| fail("attach", error))?;
        iommu
            .map(
                TEST_DOMAIN,
                MAPPED_IOVA,
                page.physical,
                PAGE_SIZE,
                Access::READ_WRITE,
            )
            .map_err(|error| fail("map", error))?;
        let mut mapped = 0;
        let _ = iommu.mappings(TEST_DOMAIN, &mut |mapping| {
            if mapping.iova == MAPPED_IOVA && mapping.physical == page.physical {
                mapped += 1;
            }
        });
        ensure!(
            mapped == 1,
            "the domain's tables do not hold the one mapping"
        );
        iommu.drain_faults(&mut |_| {});
        edu.dma(MAPPED_IOVA, false)?;
        edu.dma(MAPPED_IOVA + 0x800, true)?;
        ensure!(
            word(0x100) == 0x0123_4567_89ab_cdef,
            "DMA through the IOMMU copied {:#x}, not the pattern",
            word(0x100)
        );
        edu.dma(UNMAPPED_IOVA, true)?;
        let mut blocked = alloc::vec::Vec::new();
        iommu.drain_faults(&mut |fault| blocked.push(fault));
        ensure!(
            blocked.iter().any(|fault| fault.source == edu.source
                && fault.address == UNMAPPED_IOVA
                && fault.write
                && fault.reason == FaultReason::NotMapped),
            "the blocked write to {UNMAPPED_IOVA:#x} was not reported: {blocked:?}"
        );
        for fault in &blocked {
            log::info!("blocked as expected: {fault}");
        }
        iommu
            .unmap(TEST_DOMAIN, MAPPED_IOVA, PAGE_SIZE)
            .map_err(|error| fail("unmap", error))?;
        // SAFETY: as above.
        unsafe { memory.add(0x100).write_volatile(0) };
        edu.dma(MAPPED_IOVA + 0x800, true)?;
        ensure!(word(0x100) == 0, "edu still reached the page after unmap");
        let mut after = 0;
        iommu.drain_faults(&mut |_| after += 1);
        ensure!(after > 0, "the write after unmap was not reported");
        Ok(())
    })();
    let _ = iommu.detach(edu.source);
    if let Some(domain) = home {
        let _ = iommu.attach(edu.source, domain);
    }
    frames::free(page);
    outcome
}
