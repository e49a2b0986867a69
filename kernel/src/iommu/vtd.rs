//! The Intel VT-d driver: one DMA-remapping unit found in the ACPI DMAR, legacy-mode root and
//! context tables, a 4-level second-level table per domain, register-based invalidation
//! (each command polled until the hardware reports it done), fault records polled.
//!
//! Encodings are `kernel_core::iommu::vtd` (host-tested); domain tables are built by the
//! shared `kernel_core::paging` walker in the `SecondLevel` format, in frames from the frame
//! allocator reached through the linear map. Only QEMU's `intel-iommu` has been exercised
//! (it reports coherent table walks; on hardware without ECAP.C every table write would need
//! a cache-line flush, which this driver refuses to run without: it is not started there).
//!
//! Freed table frames: `PageTable::unmap` frees emptied tables before the IOTLB invalidation
//! this driver issues right after, under the same lock with interrupts masked, so no frame
//! freed there is handed out again before the invalidation completed.

use crate::memory::frames;
use crate::memory::kernel_space::{self, AllocatorFrames, LinearAccess};
use alloc::collections::{btree_map, BTreeMap};
use kernel_core::iommu::vtd::{self, Capability, ExtendedCapability, SecondLevel};
use kernel_core::iommu::{Access, DomainId, Fault, Iommu, IommuUnit, Mapping, SourceId, PAGE_SIZE};
use kernel_core::paging::{PageSizes, PageTable, PhysicalAccess};
use kernel_core::{CacheType, Error, PageFlags};
use spin::Mutex;

/// Polls of a status bit before the hardware is declared broken.
const POLL_LIMIT: u32 = 10_000_000;

/// One VT-d unit, running.
pub struct VtD {
    registers: u64,
    iotlb: usize,
    fault_records: (usize, usize),
    state: Mutex<State>,
}

/// The tables, behind the driver's lock.
struct State {
    root_table: u64,
    /// Context table per bus that has one (a map: 256 slots would be 4 KiB on the boot stack).
    context_tables: BTreeMap<u8, u64>,
    domains: BTreeMap<DomainId, PageTable<SecondLevel>>,
    attached: BTreeMap<SourceId, DomainId>,
}

impl VtD {
    /// Maps `unit`'s registers, checks what coherent needs (4-level tables, coherent walks),
    /// installs an empty root table (every device blocked), invalidates and enables
    /// translation. `Err` with the reason when the unit cannot be used.
    pub fn start(unit: &IommuUnit) -> Result<VtD, &'static str> {
        let registers =
            kernel_space::map_device(unit.registers, unit.size.max(PAGE_SIZE), CacheType::Device)
                .map_err(|_| "cannot map its registers")?;
        let probe = VtD {
            registers,
            iotlb: 0,
            fault_records: (0, 0),
            state: Mutex::new(State {
                root_table: 0,
                context_tables: BTreeMap::new(),
                domains: BTreeMap::new(),
                attached: BTreeMap::new(),
            }),
        };
        let capability = Capability(probe.read64(vtd::CAPABILITY));
        let extended = ExtendedCapability(probe.read64(vtd::EXTENDED_CAPABILITY));
        log::debug!(
            "iommu: VT-d capability {:#x}, extended {:#x}",
            capability.0,
            extended.0
        );
        if !capability.four_level() {
            return Err("no 4-level (48-bit) second-level tables (QEMU: aw-bits=48)");
        }
        if !extended.coherent() {
            // QEMU's intel-iommu reports C = 0 but reads guest memory directly; real
            // hardware would need each table write flushed (clflush), which the arch seam
            // does not offer yet.
            log::warn!("iommu: VT-d table walks do not snoop caches (ECAP.C = 0); relying on emulated coherence");
        }
        let root_table = frames::allocate_zeroed(1)
            .ok_or("no frame for the root table")?
            .physical;
        let driver = VtD {
            iotlb: extended.iotlb_offset(),
            fault_records: (
                capability.fault_records_offset(),
                capability.fault_records(),
            ),
            state: Mutex::new(State {
                root_table,
                ..probe.state.into_inner()
            }),
            ..probe
        };
        let version = driver.read32(vtd::VERSION);
        log::info!(
            "iommu: VT-d {}.{} at {:#x}: {} domains, {} fault records{}",
            version >> 4 & 0xf,
            version & 0xf,
            unit.registers,
            capability.domains(),
            capability.fault_records(),
            if capability.caching_mode() {
                ", caching mode"
            } else {
                ""
            }
        );
        // Faults are polled (timer tick), never interrupts: a storm cannot flood the CPU.
        driver.write32(vtd::FAULT_EVENT_CONTROL, vtd::FAULT_INTERRUPT_MASK);
        driver.write64(vtd::ROOT_TABLE_ADDRESS, root_table);
        driver.command(vtd::SET_ROOT_TABLE)?;
        driver.invalidate_all()?;
        driver.command(vtd::TRANSLATION_ENABLE)?;
        Ok(driver)
    }

    fn read32(&self, offset: usize) -> u32 {
        // SAFETY: `registers` maps the unit's register block as device memory for the life of
        // the kernel; every offset used is a register inside it (VT-d chapter 10).
        unsafe { ((self.registers + offset as u64) as *const u32).read_volatile() }
    }

    fn write32(&self, offset: usize, value: u32) {
        // SAFETY: as in `read32`.
        unsafe { ((self.registers + offset as u64) as *mut u32).write_volatile(value) }
    }

    fn read64(&self, offset: usize) -> u64 {
        // SAFETY: as in `read32`; 64-bit registers are 8-byte aligned.
        unsafe { ((self.registers + offset as u64) as *const u64).read_volatile() }
    }

    fn write64(&self, offset: usize, value: u64) {
        // SAFETY: as in `read64`.
        unsafe { ((self.registers + offset as u64) as *mut u64).write_volatile(value) }
    }

    /// Issues a global command and waits until the status register shows it done.
    fn command(&self, command: u32) -> Result<(), &'static str> {
        let status = self.read32(vtd::GLOBAL_STATUS);
        self.write32(vtd::GLOBAL_COMMAND, vtd::global_command(status, command));
        for _ in 0..POLL_LIMIT {
            if self.read32(vtd::GLOBAL_STATUS) & command != 0 {
                return Ok(());
            }
            core::hint::spin_loop();
        }
        Err("a global command never completed")
    }

    /// Writes an invalidation command to the 64-bit register at `offset` and waits until its
    /// busy bit clears: the invalidation is then complete.
    fn invalidate(&self, offset: usize, command: u64) -> Result<(), &'static str> {
        self.write64(offset, command);
        for _ in 0..POLL_LIMIT {
            if self.read64(offset) & vtd::INVALIDATION_BUSY == 0 {
                return Ok(());
            }
            core::hint::spin_loop();
        }
        Err("an invalidation never completed")
    }

    /// Invalidates the context cache and the whole IOTLB, waiting for both.
    fn invalidate_all(&self) -> Result<(), &'static str> {
        self.invalidate(vtd::CONTEXT_COMMAND, vtd::CONTEXT_INVALIDATE_GLOBAL)?;
        self.invalidate(self.iotlb, vtd::IOTLB_INVALIDATE_GLOBAL)
    }

    /// Invalidates domain `domain`'s IOTLB entries and waits.
    fn invalidate_domain(&self, domain: DomainId) -> Result<(), Error> {
        self.invalidate(self.iotlb, vtd::iotlb_invalidate_domain(domain.0))
            .map_err(broken)
    }
}

/// A unit that stopped answering: the kernel cannot promise confinement any more.
///
/// # Panics
///
/// Always: an invalidation that never completes means pages might be reused while a device
/// still reaches them; going on would break the kernel's central DMA invariant.
fn broken(reason: &str) -> Error {
    panic!("iommu: VT-d unit broken: {reason}");
}

/// Writes one 16-byte entry (low, high) at `index` of the table at `table`.
fn write_entry(table: u64, index: usize, (low, high): (u64, u64)) {
    let mut memory = LinearAccess;
    // High half first, then the low half with the present bit.
    memory.write_entry(table, index * 2 + 1, high);
    memory.write_entry(table, index * 2, low);
}

impl Iommu for VtD {
    fn name(&self) -> &'static str {
        "VT-d"
    }

    fn attach(&self, source: SourceId, domain: DomainId) -> Result<(), Error> {
        let mut state = self.state.lock();
        if let Some(current) = state.attached.get(&source) {
            return if *current == domain {
                Ok(())
            } else {
                Err(Error::Busy)
            };
        }
        if let btree_map::Entry::Vacant(slot) = state.domains.entry(domain) {
            slot.insert(PageTable::new(&mut AllocatorFrames).map_err(super::table_error)?);
        }
        let root = state.domains[&domain].root();
        let bus = source.bus();
        let context_table = match state.context_tables.get(&bus) {
            Some(table) => *table,
            None => {
                let table = frames::allocate_zeroed(1)
                    .ok_or(Error::OutOfMemory)?
                    .physical;
                state.context_tables.insert(bus, table);
                write_entry(state.root_table, usize::from(bus), vtd::root_entry(table));
                table
            }
        };
        let devfn = (source.0 & 0xff) as usize;
        write_entry(context_table, devfn, vtd::context_entry(root, domain.0));
        state.attached.insert(source, domain);
        // Caching mode may cache not-present entries: invalidate after every change.
        self.invalidate_all().map_err(broken)
    }

    fn detach(&self, source: SourceId) -> Result<(), Error> {
        let mut state = self.state.lock();
        state.attached.remove(&source).ok_or(Error::NotFound)?;
        if let Some(table) = state.context_tables.get(&source.bus()) {
            write_entry(*table, (source.0 & 0xff) as usize, (0, 0));
        }
        self.invalidate_all().map_err(broken)
    }

    fn map(
        &self,
        domain: DomainId,
        iova: u64,
        physical: u64,
        size: u64,
        access: Access,
    ) -> Result<(), Error> {
        if !access.read {
            return Err(Error::InvalidArgument);
        }
        let flags = if access.write {
            PageFlags::kernel().writable()
        } else {
            PageFlags::kernel()
        };
        let mut state = self.state.lock();
        let table = state.domains.get_mut(&domain).ok_or(Error::NotFound)?;
        table
            .map(
                &mut LinearAccess,
                &mut AllocatorFrames,
                iova,
                physical,
                size,
                flags,
                PageSizes::Small,
            )
            .map_err(super::table_error)?;
        // Not needed without caching mode (a not-present entry is never cached), but cheap
        // and correct either way.
        self.invalidate_domain(domain)
    }

    fn unmap(&self, domain: DomainId, iova: u64, size: u64) -> Result<(), Error> {
        let mut state = self.state.lock();
        let table = state.domains.get_mut(&domain).ok_or(Error::NotFound)?;
        table
            .unmap(
                &mut LinearAccess,
                &mut AllocatorFrames,
                iova,
                size,
                |_, _, _| {},
            )
            .map_err(super::table_error)?;
        self.invalidate_domain(domain)
    }

    fn mappings(&self, domain: DomainId, visit: &mut dyn FnMut(Mapping)) -> Result<(), Error> {
        let state = self.state.lock();
        let table = state.domains.get(&domain).ok_or(Error::NotFound)?;
        super::visit_merged(table, visit);
        Ok(())
    }

    fn drain_faults(&self, sink: &mut dyn FnMut(Fault)) {
        let status = self.read32(vtd::FAULT_STATUS);
        if status & (vtd::FAULT_PENDING | vtd::FAULT_OVERFLOW) == 0 {
            return;
        }
        let (offset, count) = self.fault_records;
        for index in 0..count {
            let record = offset + index * 16;
            let high = self.read64(record + 8);
            if let Some(fault) = vtd::decode_fault(self.read64(record), high) {
                // The F bit is write-1-to-clear; writing it back frees the record.
                self.write64(record + 8, vtd::FAULT_RECORD_FAULT);
                sink(fault);
            }
        }
        if status & vtd::FAULT_OVERFLOW != 0 {
            self.write32(vtd::FAULT_STATUS, vtd::FAULT_OVERFLOW);
        }
    }
}
