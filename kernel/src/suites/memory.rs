//! The `memory` suite: frames, the kernel's live page tables, cache types and DMA pools.
//!
//! Every check reads the tables the CPU is using right now, through the same walker the
//! kernel maps with, and compares against the arch crate's pure, host-tested encoding.

use crate::arch::{Arch, Cpu, ExitStatus};
use crate::ensure;
use crate::memory::frames::{self, FrameRun};
use crate::memory::kernel_space;
use crate::memory::physical::PhysicalLayout;
use crate::platform::Platform;
use crate::testing::{Failure, Suite, TestResult};
use alloc::vec::Vec;
use kernel_core::layout::{DEVICE_WINDOW_BASE, DEVICE_WINDOW_SIZE, LINEAR_MAP_BASE, PAGE_SIZE};
use kernel_core::paging::PageTableFormat;
use kernel_core::{CacheType, PageFlags};

/// Scratch virtual addresses for the tests: the upper half of the device window.
const SCRATCH: u64 = DEVICE_WINDOW_BASE + DEVICE_WINDOW_SIZE / 2;

type Format = <Cpu as Arch>::PageTableFormat;

/// The `memory` suite.
pub fn run(platform: &Platform, layout: &PhysicalLayout) -> ExitStatus {
    let mut suite = Suite::new("memory");
    suite.run(
        "memory_attributes_hold_documented_value",
        attributes_programmed,
    );
    suite.run("every_cache_type_encodes_in_live_tables", || {
        cache_types_encode(layout)
    });
    suite.run("write_combining_mapping_reads_back", || {
        write_combining_round_trip(layout)
    });
    suite.run("kernel_image_is_write_xor_execute", kernel_image_w_xor_x);
    suite.run("linear_map_covers_usable_ram_write_back", || {
        linear_map_covers_ram(layout)
    });
    suite.run("dma_pools_absent_from_linear_map", || {
        pools_absent_from_linear_map(layout)
    });
    suite.run(
        "access_after_unmap_faults_and_is_caught",
        access_after_unmap_faults,
    );
    suite.run(
        "boot_stack_guard_page_is_unmapped",
        boot_stack_guard_unmapped,
    );
    suite.run(
        "interrupt_stack_guard_pages_are_unmapped",
        interrupt_stack_guards_unmapped,
    );
    suite.run("frame_allocator_avoids_reserved_memory", || {
        allocator_avoids_reserved(platform, layout)
    });
    suite.run("map_unmap_2000_cycles_leak_nothing", map_unmap_cycles);
    suite.run("no_pool_page_mapped_cacheable_anywhere", || {
        no_cacheable_pool_alias(layout)
    });
    suite.finish()
}

fn attributes_programmed() -> TestResult {
    let live = Cpu::memory_attributes();
    ensure!(
        live == Cpu::MEMORY_ATTRIBUTES,
        "live register {live:#018x}, documented {:#018x}",
        Cpu::MEMORY_ATTRIBUTES
    );
    Ok(())
}

/// A page of the first DMA pool: memory with no cacheable alias, safe to map with any type.
fn pool_page(layout: &PhysicalLayout) -> Result<u64, Failure> {
    match layout.pools.iter().next() {
        Some(pool) => Ok(pool.physical_base),
        None => Err(Failure::new(format_args!("the image declares no DMA pool"))),
    }
}

fn cache_types_encode(layout: &PhysicalLayout) -> TestResult {
    let page = pool_page(layout)?;
    for cache in CacheType::ALL {
        let flags = PageFlags::kernel().writable().cache(cache);
        kernel_space::map(SCRATCH, page, PAGE_SIZE, flags)
            .map_err(|error| Failure::new(format_args!("mapping {cache:?} failed: {error:?}")))?;
        let translation = kernel_space::translate(SCRATCH);
        let _ = kernel_space::unmap(SCRATCH, PAGE_SIZE);
        let Some(translation) = translation else {
            return Err(Failure::new(format_args!(
                "{cache:?} mapping not found in the live tables"
            )));
        };
        let expected = Format::encode_leaf(page, flags, 3)
            .map_err(|error| Failure::new(format_args!("{cache:?} does not encode: {error:?}")))?;
        ensure!(
            translation.entry == expected,
            "{cache:?}: live entry {:#018x}, the encoder says {expected:#018x}",
            translation.entry
        );
        let decoded = Format::decode_leaf(expected, 3).map(|(_, flags)| flags.cache_type());
        ensure!(
            Some(translation.flags.cache_type()) == decoded,
            "{cache:?}: live entry decodes as {:?}",
            translation.flags.cache_type()
        );
        ensure!(
            translation.physical == page,
            "{cache:?} maps {:#x}, not {page:#x}",
            translation.physical
        );
    }
    Ok(())
}

fn write_combining_round_trip(layout: &PhysicalLayout) -> TestResult {
    let page = pool_page(layout)?;
    let flags = PageFlags::kernel()
        .writable()
        .cache(CacheType::WriteCombining);
    kernel_space::map(SCRATCH, page, PAGE_SIZE, flags)
        .map_err(|error| Failure::new(format_args!("mapping failed: {error:?}")))?;
    let words = SCRATCH as *mut u64;
    let mut mismatch = None;
    for index in 0..512 {
        let pattern = 0x5eed_0000_0000_0000 | (index as u64 * 0x0101);
        // SAFETY: SCRATCH maps one pool page, write-combining, that nothing else uses now.
        unsafe { words.add(index).write_volatile(pattern) };
    }
    for index in 0..512 {
        let pattern = 0x5eed_0000_0000_0000 | (index as u64 * 0x0101);
        // SAFETY: as above.
        let read = unsafe { words.add(index).read_volatile() };
        if read != pattern && mismatch.is_none() {
            mismatch = Some((index, read, pattern));
        }
        // SAFETY: as above; leave the pool page zeroed.
        unsafe { words.add(index).write_volatile(0) };
    }
    let _ = kernel_space::unmap(SCRATCH, PAGE_SIZE);
    if let Some((index, read, pattern)) = mismatch {
        return Err(Failure::new(format_args!(
            "word {index}: wrote {pattern:#x}, read {read:#x}"
        )));
    }
    Ok(())
}

static WRITABLE_STATIC: u64 = 0;
static mut MUTABLE_STATIC: u64 = 0;

fn kernel_image_w_xor_x() -> TestResult {
    let code = kernel_image_w_xor_x as *const () as u64;
    let read_only = &raw const WRITABLE_STATIC as u64;
    let data = &raw const MUTABLE_STATIC as u64;
    for (what, address, writable, executable) in [
        ("code", code, false, true),
        ("read-only data", read_only, false, false),
        ("data", data, true, false),
    ] {
        let Some(translation) = kernel_space::translate(address) else {
            return Err(Failure::new(format_args!(
                "kernel {what} at {address:#x} is not mapped"
            )));
        };
        let flags = translation.flags;
        ensure!(
            flags.is_writable() == writable
                && flags.is_executable() == executable
                && !flags.is_user(),
            "kernel {what} at {address:#x}: writable {} executable {} user {}",
            flags.is_writable(),
            flags.is_executable(),
            flags.is_user()
        );
    }
    Ok(())
}

fn linear_map_covers_ram(layout: &PhysicalLayout) -> TestResult {
    let Some(run) = frames::allocate(1) else {
        return Err(Failure::new(format_args!("no free frame")));
    };
    let translation = kernel_space::translate(LINEAR_MAP_BASE + run.physical);
    frames::free(run);
    let Some(translation) = translation else {
        return Err(Failure::new(format_args!(
            "frame {:#x} is not in the linear map",
            run.physical
        )));
    };
    ensure!(
        translation.physical == run.physical,
        "linear map sends {:#x} to {:#x}",
        run.physical,
        translation.physical
    );
    let flags = translation.flags;
    ensure!(
        flags.cache_type() == CacheType::WriteBack,
        "linear map is {:?}",
        flags.cache_type()
    );
    ensure!(
        flags.is_writable() && !flags.is_executable() && !flags.is_user(),
        "linear map flags {flags:?}"
    );
    for range in layout.usable.iter() {
        for address in [range.start, range.end - PAGE_SIZE] {
            ensure!(
                kernel_space::translate(LINEAR_MAP_BASE + address).is_some(),
                "usable RAM at {address:#x} is missing from the linear map"
            );
        }
    }
    Ok(())
}

fn pools_absent_from_linear_map(layout: &PhysicalLayout) -> TestResult {
    let mut checked = 0;
    for pool in layout.pools.iter() {
        for page in (pool.physical_base..pool.end()).step_by(PAGE_SIZE as usize) {
            ensure!(
                kernel_space::translate(LINEAR_MAP_BASE + page).is_none(),
                "page {page:#x} of pool `{}` (no-map: {}) is in the linear map",
                pool.name,
                pool.no_map
            );
            checked += 1;
        }
    }
    ensure!(checked > 0, "the image declares no DMA pool");
    ensure!(
        layout.pools.iter().any(|pool| pool.no_map) || Cpu::TARGET == "x86_64",
        "aarch64's device tree pool should be no-map"
    );
    Ok(())
}

fn access_after_unmap_faults() -> TestResult {
    let run =
        frames::allocate_zeroed(1).ok_or_else(|| Failure::new(format_args!("no free frame")))?;
    let address = SCRATCH + 16 * PAGE_SIZE;
    let result = (|| {
        kernel_space::map(
            address,
            run.physical,
            PAGE_SIZE,
            PageFlags::kernel().writable(),
        )
        .map_err(|error| Failure::new(format_args!("mapping failed: {error:?}")))?;
        // SAFETY: `address` maps the frame just allocated for this test.
        unsafe { (address as *mut u64).write_volatile(0xfee1_900d) };
        let before = Cpu::probe_read(address);
        ensure!(
            before == Ok(0xfee1_900d),
            "read through the mapping gave {before:?}"
        );
        kernel_space::unmap(address, PAGE_SIZE)
            .map_err(|error| Failure::new(format_args!("unmap failed: {error:?}")))?;
        match Cpu::probe_read(address) {
            Ok(value) => Err(Failure::new(format_args!(
                "read after unmap returned {value:#x} instead of faulting"
            ))),
            Err(fault) => {
                log::info!(
                    "caught the expected fault: {} at {:#x}",
                    fault.cause,
                    fault.address
                );
                ensure!(
                    fault.address == address,
                    "fault reported at {:#x}, expected {address:#x}",
                    fault.address
                );
                Ok(())
            }
        }
    })();
    frames::free(run);
    result
}

fn boot_stack_guard_unmapped() -> TestResult {
    let guard = Cpu::boot_stack_guard();
    ensure!(
        kernel_space::translate(guard).is_none(),
        "the guard page at {guard:#x} is mapped"
    );
    ensure!(
        Cpu::probe_read(guard).is_err(),
        "reading the guard page at {guard:#x} did not fault"
    );
    let stack_byte = guard + PAGE_SIZE;
    ensure!(
        kernel_space::translate(stack_byte).is_some(),
        "the boot stack above its guard is not mapped"
    );
    Ok(())
}

fn interrupt_stack_guards_unmapped() -> TestResult {
    for stack in Cpu::interrupt_stacks() {
        let (name, guard) = (stack.name, stack.guard);
        ensure!(
            guard + PAGE_SIZE == stack.bottom && stack.bottom < stack.top,
            "the {name} stack {:#x}..{:#x} does not sit on its guard {guard:#x}",
            stack.bottom,
            stack.top
        );
        ensure!(
            kernel_space::translate(guard).is_none() && Cpu::probe_read(guard).is_err(),
            "the {name} stack's guard page at {guard:#x} is mapped"
        );
        ensure!(
            kernel_space::translate(stack.bottom).is_some()
                && kernel_space::translate(stack.top - 1).is_some(),
            "the {name} stack above its guard is not mapped"
        );
    }
    Ok(())
}

fn allocator_avoids_reserved(platform: &Platform, layout: &PhysicalLayout) -> TestResult {
    let before = frames::free_pages();
    let mut runs: Vec<FrameRun> = Vec::new();
    let mut pages = 1 << 12;
    while pages > 0 {
        match frames::allocate(pages) {
            Some(run) => runs.push(run),
            None => pages /= 2,
        }
    }
    let all_taken = frames::free_pages() == 0;
    let mut forbidden: Vec<(u64, u64, &str)> = Vec::new();
    let image = platform.boot.kernel_image;
    forbidden.push((image.base, image.size, "the kernel image"));
    if let Some(initrd) = platform.initrd_range {
        forbidden.push((initrd.base, initrd.size, "the initrd"));
    }
    if let Some(tree) = platform.boot.device_tree {
        forbidden.push((tree.base, tree.size, "the device tree"));
    }
    for (base, size, _) in layout.reserved.iter().flatten() {
        forbidden.push((*base, *size, "a reservation"));
    }
    for pool in layout.pools.iter() {
        forbidden.push((pool.physical_base, pool.size, "a DMA pool"));
    }
    let clash = runs.iter().find_map(|run| {
        forbidden
            .iter()
            .find(|(base, size, _)| run.physical < base + size && *base < run.end())
            .map(|hit| (*run, hit.2))
    });
    let handed_out: u64 = runs.iter().map(|run| run.pages).sum();
    for run in runs {
        frames::free(run);
    }
    ensure!(
        all_taken,
        "the allocator still had {} free pages after draining",
        frames::free_pages()
    );
    ensure!(
        handed_out == before,
        "drained {handed_out} pages but {before} were free"
    );
    if let Some((run, what)) = clash {
        return Err(Failure::new(format_args!(
            "frames {:#x}..{:#x} overlap {what}",
            run.physical,
            run.end()
        )));
    }
    ensure!(
        frames::free_pages() == before,
        "free pages {} after returning all, {before} before",
        frames::free_pages()
    );
    Ok(())
}

fn map_unmap_cycles() -> TestResult {
    let free_before = frames::free_pages();
    let tables_before = kernel_space::table_count();
    for cycle in 0..2000u64 {
        let run = frames::allocate(1)
            .ok_or_else(|| Failure::new(format_args!("cycle {cycle}: no frame")))?;
        let address = SCRATCH + (cycle % 97) * (2 << 20) + (cycle % 7) * PAGE_SIZE;
        let mapped = kernel_space::map(
            address,
            run.physical,
            PAGE_SIZE,
            PageFlags::kernel().writable(),
        );
        if let Err(error) = mapped {
            frames::free(run);
            return Err(Failure::new(format_args!(
                "cycle {cycle}: map failed: {error:?}"
            )));
        }
        // SAFETY: `address` maps the frame just allocated for this cycle.
        unsafe { (address as *mut u64).write_volatile(cycle) };
        let unmapped = kernel_space::unmap(address, PAGE_SIZE);
        frames::free(run);
        unmapped.map_err(|error| {
            Failure::new(format_args!("cycle {cycle}: unmap failed: {error:?}"))
        })?;
    }
    let free_after = frames::free_pages();
    let tables_after = kernel_space::table_count();
    ensure!(
        free_after == free_before,
        "free frames {free_before} before, {free_after} after"
    );
    ensure!(
        tables_after == tables_before,
        "page tables {tables_before} before, {tables_after} after"
    );
    Ok(())
}

/// No kernel mapping of pool memory has a type other than its pool's declared one (the
/// kernel maps none at all: dmad's and its clients' mappings carry the pool's type, so a
/// frame is never mapped with two types). A write-combining or uncached pool's page mapped
/// write-back is the classic cacheable alias this catches.
fn no_cacheable_pool_alias(layout: &PhysicalLayout) -> TestResult {
    let mut offender = None;
    let mut leaves = 0u64;
    kernel_space::for_each_leaf(|leaf| {
        leaves += 1;
        let end = leaf.physical + leaf.page_size;
        let pool = layout
            .pools
            .iter()
            .find(|pool| leaf.physical < pool.end() && pool.physical_base < end);
        if let Some(pool) = pool {
            let declared = crate::memory::pools::cache_type(pool.cache);
            if leaf.flags.cache_type() != declared && offender.is_none() {
                offender = Some((leaf, declared));
            }
        }
    });
    ensure!(leaves > 0, "the walk found no leaf at all");
    if let Some((leaf, declared)) = offender {
        return Err(Failure::new(format_args!(
            "{:#x} maps pool memory {:#x} {}, its pool is {}",
            leaf.virtual_start,
            leaf.physical,
            leaf.flags.cache_type().name(),
            declared.name()
        )));
    }
    Ok(())
}
