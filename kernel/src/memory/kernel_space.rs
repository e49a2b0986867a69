//! The kernel's own address space: linear map, kernel image, device window.
//!
//! Built once the frame allocator works, then activated in place of the arch crate's early
//! tables:
//! - the linear map: every page of RAM at `LINEAR_MAP_BASE + physical`, write-back,
//!   read-write, never executable, in the largest pages alignment allows — except DMA pools,
//!   which no cacheable mapping may alias (only dmad maps them, write-combining);
//! - the kernel image at `KERNEL_IMAGE_BASE + physical`: text read-execute, read-only data
//!   read-only, data and `.bss` read-write no-execute (W^X), with the page below the boot stack
//!   left unmapped as its guard;
//! - device registers mapped on demand into the device window (the aarch64 console first);
//! - one pinned page in the kernel-stacks window and one in the device window, so their
//!   top-level entries exist before any process root copies them.
//!
//! The lower half stays empty: it belongs to processes.

use super::frames;
use super::physical::{PhysicalLayout, Reservation};
use crate::arch::{Arch, Cpu};
use kernel_core::layout::{
    DEVICE_WINDOW_BASE, DEVICE_WINDOW_SIZE, KERNEL_IMAGE_BASE, KERNEL_STACKS_BASE, LINEAR_MAP_BASE,
    PAGE_SIZE,
};
use kernel_core::paging::{
    MapError, PageSizes, PageTable, PhysicalAccess, TableFrames, Translation,
};
use kernel_core::ranges::RangeSet;
use kernel_core::{CacheType, PageFlags};
use log::info;
use spin::Mutex;

/// The kernel's page-table tree.
pub type KernelTable = PageTable<<Cpu as Arch>::PageTableFormat>;

/// Table entries read and written through the linear map.
pub struct LinearAccess;

impl PhysicalAccess for LinearAccess {
    fn read_entry(&self, table: u64, index: usize) -> u64 {
        let entry = (super::physical_to_virtual(table) as *const u64).wrapping_add(index);
        // SAFETY: page tables are RAM frames from the frame allocator, reachable through the
        // linear map; the walker passes indices below 512.
        unsafe { entry.read_volatile() }
    }

    fn write_entry(&mut self, table: u64, index: usize, value: u64) {
        let entry = (super::physical_to_virtual(table) as *mut u64).wrapping_add(index);
        // SAFETY: as for `read_entry`; the walker owns the tables it writes.
        unsafe { entry.write_volatile(value) };
    }
}

/// Page-table frames from the frame allocator.
pub struct AllocatorFrames;

impl TableFrames for AllocatorFrames {
    fn allocate_table(&mut self) -> Option<u64> {
        frames::allocate_zeroed(1).map(|run| run.physical)
    }

    fn free_table(&mut self, physical: u64) {
        frames::free(frames::FrameRun { physical, pages: 1 });
    }
}

struct KernelSpace {
    table: KernelTable,
    next_device_address: u64,
}

static KERNEL_SPACE: Mutex<Option<KernelSpace>> = Mutex::new(None);

extern "C" {
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __bss_end: u8;
}

/// Builds the kernel's tables and switches to them.
///
/// # Panics
/// If the tables cannot be built: boot has too little memory to go on.
pub fn init(layout: &PhysicalLayout) {
    let mut table =
        KernelTable::new(&mut AllocatorFrames).expect("no frame for the kernel's root table");
    let mut linear = layout.ram;
    for pool in layout.pools.iter() {
        let _ = linear.remove(pool.physical_base, pool.size);
    }
    linear.align_inward(PAGE_SIZE);
    // The initrd and device tree hold what the kernel reads at boot, but need not lie in
    // the memory map's RAM: on x86_64 QEMU places the initrd below its own estimate of the
    // firmware's tables, and SeaBIOS's reserved high zone can cover the initrd's last pages
    // (an initfs past ~6 MiB faulted here). Their whole pages join the linear map.
    for (base, size, reason) in layout.reserved.iter().flatten() {
        if matches!(reason, Reservation::Initrd | Reservation::DeviceTree) {
            let start = base & !(PAGE_SIZE - 1);
            let end = (base + size).next_multiple_of(PAGE_SIZE);
            let _ = linear.insert(start, end - start);
        }
    }
    let linear_flags = PageFlags::kernel().writable();
    for range in linear.iter() {
        map_or_panic(
            &mut table,
            LINEAR_MAP_BASE + range.start,
            range.start,
            range.end - range.start,
            linear_flags,
            PageSizes::Any,
        );
    }
    map_kernel_image(&mut table);
    pin_shared_regions(&mut table);
    let root = table.root();
    let mut space = KernelSpace {
        table,
        next_device_address: DEVICE_WINDOW_BASE,
    };
    if let Some((physical, size)) = Cpu::console_device() {
        let address = space
            .map_device(physical, size, CacheType::Device)
            .expect("cannot map the console");
        // SAFETY: `address` maps the console's registers as device memory.
        unsafe { Cpu::set_console_address(address as usize) };
    }
    // SAFETY: the new tables map the kernel image (code, stack, data), the linear map and the
    // console, which is everything the kernel touches from here on.
    unsafe { Cpu::activate_kernel_root(root) };
    let tables = space.table.count_tables(&LinearAccess);
    *KERNEL_SPACE.lock() = Some(space);
    info!(
        "kernel address space active: root {root:#x}, {} MiB linear map, {tables} tables",
        linear.total() >> 20
    );
}

/// Maps one read-only zero page at the start of the kernel-stacks window and at the end of
/// the device window, never unmapped. Their top-level entries then exist before any process
/// root is made and never go away: x86_64 copies the kernel's top-level entries into each
/// process root once, so a top-level table created or freed later would not be seen there.
fn pin_shared_regions(table: &mut KernelTable) {
    for address in [
        KERNEL_STACKS_BASE,
        DEVICE_WINDOW_BASE + DEVICE_WINDOW_SIZE - PAGE_SIZE,
    ] {
        let frame = frames::allocate_zeroed(1).expect("no frame to pin a kernel region");
        map_or_panic(
            table,
            address,
            frame.physical,
            PAGE_SIZE,
            PageFlags::kernel(),
            PageSizes::Small,
        );
    }
}

fn map_or_panic(
    table: &mut KernelTable,
    virtual_start: u64,
    physical: u64,
    size: u64,
    flags: PageFlags,
    sizes: PageSizes,
) {
    if let Err(error) = table.map(
        &mut LinearAccess,
        &mut AllocatorFrames,
        virtual_start,
        physical,
        size,
        flags,
        sizes,
    ) {
        panic!("cannot map {virtual_start:#x}+{size:#x} for the kernel: {error:?}");
    }
}

fn map_kernel_image(table: &mut KernelTable) {
    let address = |symbol: *const u8| symbol as u64;
    let text = (
        address(&raw const __text_start),
        address(&raw const __text_end),
    );
    let rodata = (
        address(&raw const __rodata_start),
        address(&raw const __rodata_end),
    );
    let data = (
        address(&raw const __data_start),
        address(&raw const __bss_end),
    );
    let guard = Cpu::boot_stack_guard();
    let mut sections: RangeSet<8> = RangeSet::new();
    let section = |(start, end): (u64, u64)| {
        (
            start & !(PAGE_SIZE - 1),
            (end + PAGE_SIZE - 1) & !(PAGE_SIZE - 1),
        )
    };
    for (range, flags) in [
        (section(text), PageFlags::kernel().executable()),
        (section(rodata), PageFlags::kernel()),
        (section(data), PageFlags::kernel().writable()),
    ] {
        let _ = sections.insert(range.0, range.1 - range.0);
        // Room for the boot stack's guard and every CPU's four interrupt-stack guards.
        let mut pieces: RangeSet<48> = RangeSet::new();
        let _ = pieces.insert(range.0, range.1 - range.0);
        let _ = pieces.remove(guard, PAGE_SIZE);
        for stack in Cpu::interrupt_stacks() {
            let _ = pieces.remove(stack.guard, PAGE_SIZE);
        }
        for piece in pieces.iter() {
            let size = piece.end - piece.start;
            map_or_panic(
                table,
                piece.start,
                piece.start - KERNEL_IMAGE_BASE,
                size,
                flags,
                PageSizes::Small,
            );
        }
    }
}

impl KernelSpace {
    fn map_device(&mut self, physical: u64, size: u64, cache: CacheType) -> Result<u64, MapError> {
        let offset = physical % PAGE_SIZE;
        let pages = (offset + size).div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let address = self.next_device_address;
        if address + pages > DEVICE_WINDOW_BASE + DEVICE_WINDOW_SIZE {
            return Err(MapError::OutOfFrames);
        }
        let flags = PageFlags::kernel().writable().cache(cache);
        self.table.map(
            &mut LinearAccess,
            &mut AllocatorFrames,
            address,
            physical - offset,
            pages,
            flags,
            PageSizes::Small,
        )?;
        // Leave an unmapped page between device mappings.
        self.next_device_address += pages + PAGE_SIZE;
        Ok(address + offset)
    }
}

/// Maps `size` bytes at `virtual_start` to `physical` in the kernel's tables (4 KiB pages).
pub fn map(virtual_start: u64, physical: u64, size: u64, flags: PageFlags) -> Result<(), MapError> {
    let mut guard = KERNEL_SPACE.lock();
    let space = guard.as_mut().ok_or(MapError::NotMapped)?;
    space.table.map(
        &mut LinearAccess,
        &mut AllocatorFrames,
        virtual_start,
        physical,
        size,
        flags,
        PageSizes::Small,
    )
}

/// Unmaps `size` bytes at `virtual_start` from the kernel's tables and drops the stale TLB
/// entries.
pub fn unmap(virtual_start: u64, size: u64) -> Result<(), MapError> {
    let mut guard = KERNEL_SPACE.lock();
    let space = guard.as_mut().ok_or(MapError::NotMapped)?;
    space.table.unmap(
        &mut LinearAccess,
        &mut AllocatorFrames,
        virtual_start,
        size,
        |virtual_address, _, _| Cpu::invalidate_page(virtual_address),
    )?;
    drop(guard);
    // Other CPUs may hold the translation (a kernel stack of a thread that ran there).
    crate::smp::shootdown_all();
    Ok(())
}

/// Changes the permissions or memory type of mapped kernel pages and drops the stale TLB
/// entries.
#[allow(
    dead_code,
    reason = "kernel API completed with its siblings; the process work uses it"
)]
pub fn protect(virtual_start: u64, size: u64, flags: PageFlags) -> Result<(), MapError> {
    let mut guard = KERNEL_SPACE.lock();
    let space = guard.as_mut().ok_or(MapError::NotMapped)?;
    space.table.protect(
        &mut LinearAccess,
        virtual_start,
        size,
        flags,
        Cpu::invalidate_page,
    )?;
    drop(guard);
    crate::smp::shootdown_all();
    Ok(())
}

/// Maps device registers into the device window; returns their virtual address.
pub fn map_device(physical: u64, size: u64, cache: CacheType) -> Result<u64, MapError> {
    let mut guard = KERNEL_SPACE.lock();
    guard
        .as_mut()
        .ok_or(MapError::NotMapped)?
        .map_device(physical, size, cache)
}

/// What the kernel's tables map at `virtual_address`.
pub fn translate(virtual_address: u64) -> Option<Translation> {
    let guard = KERNEL_SPACE.lock();
    guard
        .as_ref()?
        .table
        .translate(&LinearAccess, virtual_address)
}

/// Runs `visit` over every present leaf of the kernel's tables (test kernels only: the
/// memory suite checks every mapping).
#[cfg(feature = "test-suites")]
pub fn for_each_leaf(visit: impl FnMut(kernel_core::paging::Leaf)) {
    if let Some(space) = KERNEL_SPACE.lock().as_ref() {
        space.table.for_each_leaf(&LinearAccess, visit);
    }
}

/// The physical address of the kernel's root table.
pub fn root() -> u64 {
    KERNEL_SPACE
        .lock()
        .as_ref()
        .map_or(0, |space| space.table.root())
}

/// How many tables the kernel's tree has now (test kernels only: the memory suite checks
/// that mapping and unmapping return them).
#[cfg(feature = "test-suites")]
pub fn table_count() -> usize {
    KERNEL_SPACE
        .lock()
        .as_ref()
        .map_or(0, |space| space.table.count_tables(&LinearAccess))
}
