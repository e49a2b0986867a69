//! The Arm SMMUv3 driver: confines PCI functions on aarch64 `virt` (`iommu=smmuv3`).
//!
//! Found through the device tree (`arm,smmu-v3`, see `platform::device_tree`). At probe it
//! reads IDR0/1/5 (stage 1, AArch64 tables and the 4 KiB granule are required), turns the
//! SMMU off (CR0 = 0, waiting for CR0ACK), makes traffic abort while it is off (GBPA.ABORT),
//! and builds in kernel memory a linear stream table with every entry *abort* (a stream
//! no domain owns reaches nothing, silently), a command queue and an event queue. It then
//! enables the queues, invalidates every cached configuration and TLB entry (CMD_CFGI_ALL,
//! CMD_TLBI_NSNH_ALL, CMD_SYNC), and enables translation, each step acknowledged in CR0ACK.
//!
//! A domain is one stage-1 context descriptor (its ASID is the domain number) and one
//! translation table tree, walked by `kernel_core::paging` in `kernel_core::iommu::smmu`'s
//! [`Stage1Format`]. Attaching a stream writes its STE (translate through the domain's CD)
//! and invalidates it; unmapping clears the leaves, invalidates each page's TLB and
//! walk-cache entries (CMD_TLBI_NH_VA) and waits for CMD_SYNC — the freed table frames go
//! back to the allocator only after that, so the SMMU never walks a reused frame. Event
//! records are drained on demand (`drain_faults`, from the timer tick) and never stop
//! anything.
//!
//! The stream table covers the stream ids of the PCI buses the device table found (at
//! least bus 0; stream id = requester id, the identity `iommu-map` discovery accepts).
//! Memory ordering: the driver writes tables and queue entries through the write-back
//! linear map and orders them before each register write with a full fence; the SMMU reads
//! them coherently (CR1: inner-shareable write-back, as QEMU and IDR0.COHACC parts do).

mod queues;

use crate::memory::frames;
use crate::memory::kernel_space::{map_device, LinearAccess};
use crate::memory::physical_to_virtual;
use alloc::boxed::Box;
use alloc::collections::btree_map::Entry;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use kernel_core::iommu::smmu::{
    linear_stream_table_config, stream_table_base, Command, ContextDescriptor, EventKind, Features,
    Stage1Format, StreamTableEntry, CR0, CR0_ACKNOWLEDGE, CR0_COMMAND_QUEUE_ENABLE,
    CR0_EVENT_QUEUE_ENABLE, CR0_SMMU_ENABLE, CR1, CR1_WRITE_BACK_INNER_SHAREABLE, GBPA, GBPA_ABORT,
    GBPA_UPDATE, IDR0, IDR1, IDR5, REGISTER_BYTES, STREAM_TABLE_ENTRY_BYTES, STRTAB_BASE,
    STRTAB_BASE_CFG,
};
use kernel_core::iommu::{
    Access, DomainId, Fault, FaultReason, Iommu, IommuUnit, Mapping, SourceId, PAGE_SIZE,
};
use kernel_core::paging::{PageSizes, PageTable, TableFrames};
use kernel_core::{CacheType, Error, PageFlags};
use queues::{install, Queue, Registers};
use spin::Mutex;

/// Command queue: 256 entries (one page); event queue: 128 entries (one page).
const COMMAND_QUEUE_LOG2: u32 = 8;
const EVENT_QUEUE_LOG2: u32 = 7;
/// Unmaps of more pages than this invalidate the whole ASID instead of page by page.
const PAGE_INVALIDATIONS_MAX: u64 = 64;

/// One device domain.
struct Domain {
    table: PageTable<Stage1Format>,
    /// Physical address of the frame holding the domain's context descriptor.
    context: u64,
    asid: u16,
}

struct State {
    stream_table: u64,
    streams: u32,
    commands: Queue,
    events: Queue,
    domains: BTreeMap<DomainId, Domain>,
    sources: BTreeMap<SourceId, DomainId>,
}

/// A probed, enabled SMMUv3.
pub struct Smmu {
    registers: Registers,
    features: Features,
    state: Mutex<State>,
}

/// Table frames from the allocator; frees wait until the SMMU can no longer walk them.
struct DeferredFrames {
    freed: Vec<u64>,
}

impl TableFrames for DeferredFrames {
    fn allocate_table(&mut self) -> Option<u64> {
        frames::allocate_zeroed(1).map(|run| run.physical)
    }

    fn free_table(&mut self, physical: u64) {
        self.freed.push(physical);
    }
}

impl DeferredFrames {
    fn new() -> Self {
        DeferredFrames { freed: Vec::new() }
    }

    fn release(self) {
        for physical in self.freed {
            frames::free(frames::FrameRun { physical, pages: 1 });
        }
    }
}

/// Writes the eight words of a 64-byte structure (STE or CD) at `physical`, word 0 last so
/// the SMMU never sees a valid entry with stale fields.
fn write_structure(physical: u64, words: [u64; 8]) {
    let base = physical_to_virtual(physical) as *mut u64;
    for index in (0..8).rev() {
        // SAFETY: `physical` is a 64-byte structure inside frames this driver allocated
        // (stream table or context frame), reached through the linear map.
        unsafe { base.add(index).write_volatile(words[index]) };
        if index == 1 {
            core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// Sets and acknowledges CR0.
fn set_control(registers: Registers, value: u32) -> Result<(), Error> {
    registers.write(CR0, value);
    registers.poll(CR0_ACKNOWLEDGE, |acknowledged| acknowledged == value)
}

impl Smmu {
    /// Probes and enables the SMMU `unit` describes, every stream blocked, covering stream
    /// ids `0 .. 256 * buses`. Returns why not on failure (the SMMU is then left off).
    pub fn probe(unit: &IommuUnit, buses: u32) -> Result<&'static Smmu, &'static str> {
        let size = unit.size.max(REGISTER_BYTES);
        let base = map_device(unit.registers, size, CacheType::Device)
            .map_err(|_| "cannot map its registers")?;
        let registers = Registers { base };
        let features = Features::decode(
            registers.read(IDR0),
            registers.read(IDR1),
            registers.read(IDR5),
        );
        log::info!("smmu: {features:?}");
        if !features.usable() {
            return Err("no stage-1 AArch64 translation with a 4 KiB granule");
        }
        set_control(registers, 0).map_err(|_| "CR0ACK did not acknowledge disabling")?;
        registers.write(GBPA, GBPA_ABORT | GBPA_UPDATE);
        registers
            .poll(GBPA, |value| value & GBPA_UPDATE == 0)
            .map_err(|_| "GBPA update did not complete")?;

        let wanted = 8 + buses.max(1).next_power_of_two().trailing_zeros();
        let log2 = wanted.min(features.stream_id_bits);
        let streams = 1u32 << log2;
        let table_bytes = u64::from(streams) * STREAM_TABLE_ENTRY_BYTES as u64;
        let pages = table_bytes.div_ceil(PAGE_SIZE).next_power_of_two();
        let table = frames::allocate_zeroed(pages).ok_or("no memory for the stream table")?;
        for stream in 0..u64::from(streams) {
            let entry = table.physical + stream * STREAM_TABLE_ENTRY_BYTES as u64;
            write_structure(entry, StreamTableEntry::Abort.encode());
        }
        let commands = Queue::new(
            COMMAND_QUEUE_LOG2.min(features.command_queue_log2),
            kernel_core::iommu::smmu::COMMAND_BYTES,
        )
        .ok_or("no memory for the command queue")?;
        let events = Queue::new(
            EVENT_QUEUE_LOG2.min(features.event_queue_log2),
            kernel_core::iommu::smmu::EVENT_BYTES,
        )
        .ok_or("no memory for the event queue")?;

        registers.write(CR1, CR1_WRITE_BACK_INNER_SHAREABLE);
        registers.write64(STRTAB_BASE, stream_table_base(table.physical));
        registers.write(STRTAB_BASE_CFG, linear_stream_table_config(log2));
        install(registers, &commands, &events);
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);

        let mut state = State {
            stream_table: table.physical,
            streams,
            commands,
            events,
            domains: BTreeMap::new(),
            sources: BTreeMap::new(),
        };
        set_control(registers, CR0_COMMAND_QUEUE_ENABLE)
            .map_err(|_| "command queue did not enable")?;
        for command in [Command::InvalidateAllConfiguration, Command::InvalidateAll] {
            state
                .commands
                .push(registers, command)
                .map_err(|_| "command queue full")?;
        }
        state
            .commands
            .sync(registers)
            .map_err(|_| "initial invalidation did not complete")?;
        let enabled = CR0_COMMAND_QUEUE_ENABLE | CR0_EVENT_QUEUE_ENABLE;
        set_control(registers, enabled).map_err(|_| "event queue did not enable")?;
        set_control(registers, enabled | CR0_SMMU_ENABLE)
            .map_err(|_| "translation did not enable")?;
        log::info!(
            "smmu: SMMUv3 at {:#x} on: {streams} streams (linear table at {:#x}), every stream blocked until attached",
            unit.registers,
            table.physical
        );
        Ok(Box::leak(Box::new(Smmu {
            registers,
            features,
            state: Mutex::new(state),
        })))
    }

    /// Writes stream `source`'s STE and makes the SMMU forget its old one.
    fn set_stream(
        &self,
        state: &mut State,
        source: SourceId,
        entry: StreamTableEntry,
    ) -> Result<(), Error> {
        let address = state.stream_table + u64::from(source.0) * STREAM_TABLE_ENTRY_BYTES as u64;
        write_structure(address, entry.encode());
        let stream = source.0;
        state
            .commands
            .push(self.registers, Command::InvalidateStreamEntry { stream })?;
        state.commands.push(
            self.registers,
            Command::InvalidateContextDescriptor { stream },
        )?;
        state.commands.sync(self.registers)
    }
}

/// An empty domain with ASID `asid`: a root table and a context descriptor pointing at it.
fn new_domain(asid: u16, output_address_bits: u32) -> Result<Domain, Error> {
    let mut frames = DeferredFrames::new();
    let table = PageTable::<Stage1Format>::new(&mut frames).map_err(super::table_error)?;
    let Some(context) = frames::allocate_zeroed(1) else {
        table.destroy(&LinearAccess, &mut frames);
        frames.release();
        return Err(Error::OutOfMemory);
    };
    let descriptor = ContextDescriptor {
        table: table.root(),
        asid,
        output_address_bits,
    };
    write_structure(context.physical, descriptor.encode());
    Ok(Domain {
        table,
        context: context.physical,
        asid,
    })
}

fn fault_reason(kind: EventKind, code: u8) -> FaultReason {
    match kind {
        EventKind::Translation => FaultReason::NotMapped,
        EventKind::Permission => FaultReason::Permission,
        EventKind::BadStreamEntry | EventKind::BadStreamId | EventKind::StreamDisabled => {
            FaultReason::NoDomain
        }
        _ => FaultReason::Other(u16::from(code)),
    }
}

impl Iommu for Smmu {
    fn name(&self) -> &'static str {
        "SMMUv3"
    }

    fn attach(&self, source: SourceId, domain: DomainId) -> Result<(), Error> {
        let mut state = self.state.lock();
        if source.0 >= state.streams || (!self.features.asid16 && domain.0 > 0xff) {
            return Err(Error::InvalidArgument);
        }
        match state.sources.get(&source) {
            Some(current) if *current == domain => return Ok(()),
            Some(_) => return Err(Error::Busy),
            None => {}
        }
        if let Entry::Vacant(slot) = state.domains.entry(domain) {
            slot.insert(new_domain(domain.0, self.features.output_address_bits)?);
        }
        let context_descriptor = state.domains[&domain].context;
        self.set_stream(
            &mut state,
            source,
            StreamTableEntry::Stage1 { context_descriptor },
        )?;
        state.sources.insert(source, domain);
        Ok(())
    }

    fn detach(&self, source: SourceId) -> Result<(), Error> {
        let mut state = self.state.lock();
        if state.sources.remove(&source).is_none() {
            return Err(Error::NotFound);
        }
        self.set_stream(&mut state, source, StreamTableEntry::Abort)
    }

    fn map(
        &self,
        domain: DomainId,
        iova: u64,
        physical: u64,
        size: u64,
        access: Access,
    ) -> Result<(), Error> {
        let aligned = |value: u64| value.is_multiple_of(PAGE_SIZE);
        if size == 0 || !aligned(iova) || !aligned(physical) || !aligned(size) {
            return Err(Error::InvalidArgument);
        }
        if !access.read && !access.write {
            return Err(Error::InvalidArgument);
        }
        // Stage 1 cannot grant write without read: a write-only request maps read-write.
        let mut flags = PageFlags::user().cache(CacheType::WriteCombining);
        if access.write {
            flags = flags.writable();
        }
        let mut state = self.state.lock();
        let entry = state.domains.get_mut(&domain).ok_or(Error::NotFound)?;
        let mut frames = DeferredFrames::new();
        let outcome = entry
            .table
            .map(
                &mut LinearAccess,
                &mut frames,
                iova,
                physical,
                size,
                flags,
                PageSizes::Small,
            )
            .map_err(super::table_error);
        // A refused map changed nothing and freed nothing; nothing to invalidate.
        frames.release();
        outcome
    }

    fn unmap(&self, domain: DomainId, iova: u64, size: u64) -> Result<(), Error> {
        let aligned = |value: u64| value.is_multiple_of(PAGE_SIZE);
        if size == 0 || !aligned(iova) || !aligned(size) || iova.checked_add(size).is_none() {
            return Err(Error::InvalidArgument);
        }
        let mut guard = self.state.lock();
        let state = &mut *guard;
        let entry = state.domains.get_mut(&domain).ok_or(Error::NotFound)?;
        let mut frames = DeferredFrames::new();
        let mut unmapped = 0u64;
        let mut page = iova;
        while page < iova + size {
            if entry.table.translate(&LinearAccess, page).is_some() {
                entry
                    .table
                    .unmap(
                        &mut LinearAccess,
                        &mut frames,
                        page,
                        PAGE_SIZE,
                        |_, _, _| {},
                    )
                    .map_err(super::table_error)?;
                unmapped += 1;
            }
            page += PAGE_SIZE;
        }
        let asid = entry.asid;
        if unmapped > PAGE_INVALIDATIONS_MAX {
            state
                .commands
                .push(self.registers, Command::InvalidateAsid { asid })?;
        } else if unmapped > 0 {
            let mut page = iova;
            while page < iova + size {
                let command = Command::InvalidatePage {
                    asid,
                    address: page,
                };
                state.commands.push(self.registers, command)?;
                page += PAGE_SIZE;
            }
        }
        let outcome = state.commands.sync(self.registers);
        // Only now can the SMMU no longer walk the tables the unmap emptied.
        if outcome.is_ok() {
            frames.release();
        }
        outcome
    }

    fn mappings(&self, domain: DomainId, visit: &mut dyn FnMut(Mapping)) -> Result<(), Error> {
        let state = self.state.lock();
        let entry = state.domains.get(&domain).ok_or(Error::NotFound)?;
        super::visit_merged(&entry.table, visit);
        Ok(())
    }

    fn drain_faults(&self, sink: &mut dyn FnMut(Fault)) {
        let Some(mut state) = self.state.try_lock() else {
            return;
        };
        while let Some(event) = state.events.pop_event(self.registers) {
            let code = match event.kind {
                EventKind::Other(code) => code,
                _ => 0,
            };
            sink(Fault {
                source: SourceId(event.stream),
                address: event.address.unwrap_or(0),
                write: event.write,
                reason: fault_reason(event.kind, code),
            });
        }
    }
}
