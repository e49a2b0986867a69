//! The machine's IOMMU, if any: chosen once at boot, then used by the `iommu:` scheme (dmad's
//! map/unmap requests), `sys:iommu` (each domain's live mappings, recent faults) and the
//! fault log.
//!
//! The contract, the data types and the design decision (the kernel programs the IOMMU; dmad
//! asks through `iommu:DEVICE`) are documented in [`kernel_core::iommu`]. This module holds
//! the one registration point: [`discover`] looks at the machine description's IOMMU units
//! (ACPI DMAR on x86_64, the device tree's `arm,smmu-v3` on aarch64), builds the driver for
//! the first unit it supports, and [`register`]s it; everything else asks [`get`]. With no
//! unit, or `iommu=off` on the command line, [`get`] is `None` and the boot log says devices
//! are unconfined (device address = physical address, as before).
//!
//! Each named PCI device gets its own domain, numbered by its place in the device table
//! (domain = place + 1), attached at boot and empty until dmad maps buffers into it; every
//! other function is blocked. Device addresses (IOVAs) are the pool's device addresses, so
//! drivers see the same numbers with or without an IOMMU; what changes is that only the
//! live buffers of the device's own domain answer.
//!
//! Faults are polled at each timer tick ([`poll_faults`]): logged as a warning with device,
//! direction and address, kept in a small ring with a running count for `sys:iommu`, and
//! counted per device with the last one kept ([`faults_of`]), which the device's holder reads
//! through its `device:` handle — how a driver learns its device was blocked.
//!
//! Layer: beside `interrupts` (imports `devices`, `memory`, `platform`). Lock order: the
//! driver's own lock sits between the kernel's address space and the frame allocator (it
//! takes the frame allocator and the heap); the fault ring and the per-device records are
//! leaves, taken one after the other.

mod smmu;
mod vtd;

use crate::memory::kernel_space::LinearAccess;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel_core::iommu::{
    Access, DeviceFaults, DomainId, Fault, Iommu, IommuKind, Mapping, SourceId,
};
use kernel_core::paging::{MapError, PageTable, PageTableFormat};
use kernel_core::Error;
use spin::{Mutex, Once};

/// Calls `visit` for each run of a domain's leaves contiguous in IOVA and physical address
/// with the same access, walking the hardware tables in IOVA order (every driver's
/// [`Iommu::mappings`]).
fn visit_merged<F: PageTableFormat>(table: &PageTable<F>, visit: &mut dyn FnMut(Mapping)) {
    let mut run: Option<Mapping> = None;
    table.for_each_leaf(&LinearAccess, |leaf| {
        let access = Access {
            read: true,
            write: leaf.flags.is_writable(),
        };
        if let Some(current) = run.as_mut() {
            if current.iova + current.size == leaf.virtual_start
                && current.physical + current.size == leaf.physical
                && current.access == access
            {
                current.size += leaf.page_size;
                return;
            }
            visit(*current);
        }
        run = Some(Mapping {
            iova: leaf.virtual_start,
            physical: leaf.physical,
            size: leaf.page_size,
            access,
        });
    });
    if let Some(last) = run {
        visit(last);
    }
}

/// The error every driver answers for a refused table operation.
fn table_error(error: MapError) -> Error {
    match error {
        MapError::AlreadyMapped => Error::AlreadyExists,
        MapError::NotMapped => Error::NotFound,
        MapError::OutOfFrames => Error::OutOfMemory,
        _ => Error::InvalidArgument,
    }
}

/// The registered driver, set once at boot.
static IOMMU: Once<&'static dyn Iommu> = Once::new();

/// Faults remembered for `sys:iommu`.
const FAULT_RING: usize = 32;

/// Whether the registered IOMMU translates devices' MSI writes like any other DMA (SMMUv3;
/// VT-d never translates writes to its interrupt range 0xFEEx_xxxx).
static TRANSLATES_MESSAGES: AtomicBool = AtomicBool::new(false);

/// Whether a message interrupt of the named device would be translated — and so blocked,
/// since domains map only DMA buffers (the MSI doorbell is not mapped into them; Linux's
/// `iommu_dma_prepare_msi` does that, coherent does not yet). `interrupts` then gives the
/// device its wired line instead.
pub fn blocks_messages_of(name: &str) -> bool {
    TRANSLATES_MESSAGES.load(Ordering::Relaxed) && domain_of_device(name).is_some()
}

/// The latest faults (oldest first) and how many there were in all.
static FAULTS: Mutex<(Vec<Fault>, u64)> = Mutex::new((Vec::new(), 0));

/// Sources whose faults are counted one by one for their holders (a PCI bus has at most
/// this many named functions here; a fault of a further source is still logged and in
/// `FAULTS`).
const FAULT_SOURCES: usize = 64;

/// Per source: its faults' count and the last one ([`faults_of`]). A leaf lock, never taken
/// with `FAULTS` held.
static SOURCE_FAULTS: Mutex<Vec<(SourceId, DeviceFaults)>> = Mutex::new(Vec::new());

/// Registers `driver` as the machine's IOMMU. A second registration is ignored and logged
/// (the kernel confines devices with one unit).
pub fn register(driver: &'static dyn Iommu) {
    if IOMMU.is_completed() {
        log::warn!("iommu: a second unit ({}) is ignored", driver.name());
        return;
    }
    IOMMU.call_once(|| driver);
}

/// The machine's IOMMU, if devices are confined.
pub fn get() -> Option<&'static dyn Iommu> {
    IOMMU.get().copied()
}

/// The domain the device at `index` in the device table gets.
pub fn domain_of(index: usize) -> DomainId {
    DomainId(u16::try_from(index + 1).unwrap_or(u16::MAX))
}

/// The domain of the named device `name`, if an IOMMU confines it.
pub fn domain_of_device(name: &str) -> Option<DomainId> {
    get()?;
    crate::devices::named_pci_functions()
        .into_iter()
        .find(|(_, device, _)| device == name)
        .map(|(index, _, _)| domain_of(index))
}

/// Drains the recorded faults into the log and the ring `sys:iommu` shows. Cheap when there
/// are none (one register read); called from the timer tick and before each `sys:iommu`.
pub fn poll_faults() {
    let Some(iommu) = get() else {
        return;
    };
    iommu.drain_faults(&mut |fault: Fault| {
        log::warn!("iommu: blocked {fault}");
        let mut faults = FAULTS.lock();
        if faults.0.len() == FAULT_RING {
            faults.0.remove(0);
        }
        if faults.0.try_reserve(1).is_ok() {
            faults.0.push(fault);
        }
        faults.1 += 1;
        drop(faults);
        let mut sources = SOURCE_FAULTS.lock();
        if let Some((_, record)) = sources
            .iter_mut()
            .find(|(source, _)| *source == fault.source)
        {
            record.record(&fault);
        } else if sources.len() < FAULT_SOURCES && sources.try_reserve(1).is_ok() {
            let mut record = DeviceFaults::default();
            record.record(&fault);
            sources.push((fault.source, record));
        }
    });
}

/// The faults of the device at `source` so far (drained first, so a fault the hardware has
/// recorded is counted): what its holder reads through `device:NAME` (`call` `faults`).
pub fn faults_of(source: SourceId) -> DeviceFaults {
    poll_faults();
    SOURCE_FAULTS
        .lock()
        .iter()
        .find(|(known, _)| *known == source)
        .map(|(_, record)| *record)
        .unwrap_or_default()
}

/// Chooses the machine's IOMMU at boot, after the device table is built: the first unit of
/// `platform.machine` a driver here supports, unless the command line says `iommu=off`.
/// Logs the outcome — one line per confined device and its domain, or that devices are
/// unconfined.
///
/// Drivers plug in here: each kind of [`IommuKind`] is matched to its driver's constructor,
/// which maps the unit's registers, sets up its tables with every source blocked, enables
/// translation, and returns the driver to register.
pub fn discover(platform: &crate::platform::Platform) {
    let wanted = platform.command_line.get("iommu") != Some("off");
    let Some(unit) = platform.machine.iommus().next() else {
        log::info!("iommu: none found; devices are unconfined (device address = physical)");
        return;
    };
    if !wanted {
        log::info!(
            "iommu: {:?} at {:#x} left off (iommu=off); devices are unconfined",
            unit.kind,
            unit.registers
        );
        return;
    }
    let started: Result<&'static dyn Iommu, &str> = match unit.kind {
        IommuKind::VtD => vtd::VtD::start(unit).map(|driver| &*Box::leak(Box::new(driver)) as _),
        IommuKind::SmmuV3 => {
            TRANSLATES_MESSAGES.store(true, Ordering::Relaxed);
            // Stream ids cover every PCI bus the device table found.
            let buses = crate::devices::highest_pci_bus().map_or(1, |bus| u32::from(bus) + 1);
            smmu::Smmu::probe(unit, buses).map(|driver| driver as &'static dyn Iommu)
        }
    };
    match started {
        Ok(driver) => register(driver),
        Err(reason) => {
            TRANSLATES_MESSAGES.store(false, Ordering::Relaxed);
            log::warn!(
                "iommu: {:?} at {:#x} unusable ({reason}); devices are unconfined",
                unit.kind,
                unit.registers
            );
            return;
        }
    }
    let Some(iommu) = get() else { return };
    for (index, name, address) in crate::devices::named_pci_functions() {
        let source = SourceId::pci(address.bus, address.device, address.function);
        let domain = domain_of(index);
        match iommu.attach(source, domain) {
            Ok(()) => log::info!("iommu: device {name} ({source}) in domain {}", domain.0),
            Err(error) => log::error!("iommu: cannot attach {name} ({source}): {error:?}"),
        }
    }
    log::info!(
        "iommu: {} confines DMA; other PCI functions are blocked",
        iommu.name()
    );
}

/// `sys:iommu`: `iommu NAME` (or `iommu none`), then per confined device `domain N DEVICE
/// B:D.F` followed by its mappings `map IOVA PHYSICAL SIZE rw|r`, then `faults TOTAL` and
/// the latest faults `fault B:D.F read|write ADDRESS REASON`.
pub fn write_text(text: &mut dyn Write) -> core::fmt::Result {
    poll_faults();
    let Some(iommu) = get() else {
        return writeln!(text, "iommu none");
    };
    writeln!(text, "iommu {}", iommu.name())?;
    for (index, name, address) in crate::devices::named_pci_functions() {
        let domain = domain_of(index);
        let source = SourceId::pci(address.bus, address.device, address.function);
        writeln!(text, "domain {} {name} {source}", domain.0)?;
        let mut result = Ok(());
        let _ = iommu.mappings(domain, &mut |mapping| {
            if result.is_ok() {
                result = writeln!(
                    text,
                    "map {:#x} {:#x} {:#x} {}",
                    mapping.iova,
                    mapping.physical,
                    mapping.size,
                    if mapping.access.write { "rw" } else { "r" }
                );
            }
        });
        result?;
    }
    let faults = FAULTS.lock().clone();
    writeln!(text, "faults {}", faults.1)?;
    for fault in faults.0 {
        writeln!(
            text,
            "fault {} {} {:#x} {}",
            fault.source,
            if fault.write { "write" } else { "read" },
            fault.address,
            fault.reason
        )?;
    }
    Ok(())
}
