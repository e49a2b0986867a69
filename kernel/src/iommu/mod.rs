//! The machine's IOMMU, if any: chosen once at boot, then used by the `iommu:` scheme (dmad's
//! map/unmap requests), `sys:iommu` (each domain's live mappings) and the fault log.
//!
//! The contract, the data types and the design decision (the kernel programs the IOMMU; dmad
//! asks through `iommu:DEVICE`) are documented in [`kernel_core::iommu`]. This module holds
//! the one registration point: [`discover`] looks at the machine description's IOMMU units
//! (ACPI DMAR on x86_64, the device tree's `arm,smmu-v3` on aarch64), builds the driver for
//! the first unit it supports, and [`register`]s it; everything else asks [`get`]. With no
//! unit, or `iommu=off` on the command line, [`get`] is `None` and the boot log says devices
//! are unconfined (device address = physical address, as before).
//!
//! Each confined device gets its own domain, numbered by its place in the device table
//! (domain = index + 1), attached when the device table is built, empty until dmad maps
//! buffers into it.
//!
//! Layer: beside `interrupts` (imports `devices`, `memory`, `platform`). Lock order: a
//! driver's own lock is a leaf taken with nothing above `memory::frames` held, and may take
//! the frame allocator and the heap.

mod smmu;

use kernel_core::iommu::{DomainId, Fault, Iommu, IommuKind};
use spin::Once;

/// The registered driver, set once at boot.
static IOMMU: Once<&'static dyn Iommu> = Once::new();

/// Registers `driver` as the machine's IOMMU. A second registration is ignored and logged
/// (the kernel confines devices with one unit).
#[allow(
    dead_code,
    reason = "the VT-d (x86_64) and SMMUv3 (aarch64) drivers call it from `discover`"
)]
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
#[allow(
    dead_code,
    reason = "used once the drivers attach devices in `discover`"
)]
pub fn domain_of(index: usize) -> DomainId {
    DomainId(u16::try_from(index + 1).unwrap_or(u16::MAX))
}

/// Drains the recorded faults into the log (and the fault ring `sys:iommu` shows). Cheap
/// when there are none; called from the timer tick and before each `sys:iommu` read.
pub fn poll_faults() {
    if let Some(iommu) = get() {
        iommu.drain_faults(&mut |fault: Fault| {
            log::warn!("iommu: blocked {fault}");
        });
    }
}

/// Chooses the machine's IOMMU at boot, after the device table is built: the first unit of
/// `platform.machine` a driver here supports, unless the command line says `iommu=off`.
/// Logs the outcome — one line per confined device and its domain, or that devices are
/// unconfined.
///
/// Drivers plug in here: each kind of [`kernel_core::iommu::IommuKind`] is matched to its
/// driver's constructor, which maps the unit's registers, sets up its tables with every
/// source blocked, enables translation, and returns the `&'static dyn Iommu` to register.
pub fn discover(platform: &crate::platform::Platform) {
    let wanted = platform.command_line.get("iommu") != Some("off");
    let mut units = platform.machine.iommus();
    match units.next() {
        None => log::info!("iommu: none found; devices are unconfined (device address = physical)"),
        Some(unit) if !wanted => log::info!(
            "iommu: {:?} at {:#x} left off (iommu=off); devices are unconfined",
            unit.kind,
            unit.registers
        ),
        Some(unit) if unit.kind == IommuKind::SmmuV3 => {
            // Stream ids cover every PCI bus the device table found.
            let buses = crate::devices::highest_pci_bus().map_or(1, |bus| u32::from(bus) + 1);
            match smmu::Smmu::probe(unit, buses) {
                Ok(driver) => register(driver),
                Err(reason) => log::warn!(
                    "iommu: SMMUv3 at {:#x} left off ({reason}); devices are unconfined",
                    unit.registers
                ),
            }
        }
        Some(unit) => {
            log::warn!(
                "iommu: no driver for {:?} at {:#x} yet; devices are unconfined",
                unit.kind,
                unit.registers
            );
        }
    }
    if let Some(iommu) = get() {
        log::info!("iommu: {} confines DMA", iommu.name());
    }
}
