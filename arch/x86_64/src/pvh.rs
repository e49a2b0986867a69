//! Reading the PVH `hvm_start_info` structure into [`BootInfo`].
//!
//! Layout from Xen's `public/arch-x86/hvm/start_info.h` (version 1 adds the memory map).

use kernel_core::boot::{BootInfo, MemoryRegion, PhysicalRange, RegionKind};

/// `hvm_start_info.magic`: "xEn3" with the top bit set.
pub const START_INFO_MAGIC: u32 = 0x336e_c578;

#[repr(C)]
#[derive(Clone, Copy)]
struct StartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    module_count: u32,
    module_list: u64,
    command_line: u64,
    rsdp: u64,
    memory_map: u64,
    memory_map_entries: u32,
    reserved: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct ModuleEntry {
    physical: u64,
    size: u64,
    command_line: u64,
    reserved: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct MemoryMapEntry {
    address: u64,
    size: u64,
    kind: u32,
    reserved: u32,
}

/// Why the start info could not be read.
#[derive(Debug)]
#[allow(
    dead_code,
    reason = "fields are read through Debug in the boot failure report"
)]
pub enum PvhError {
    /// The magic number did not match: not booted through PVH.
    BadMagic(u32),
    /// Version 0 has no memory map, which coherent needs.
    NoMemoryMap,
}

/// Fills `info` from the `hvm_start_info` at physical address `start_info`.
///
/// # Safety
/// `start_info` must be the physical address the PVH loader passed in `%ebx`, and every
/// physical address in it must be readable through `crate::physical_to_virtual`.
pub unsafe fn read(start_info: u64, info: &mut BootInfo) -> Result<(), PvhError> {
    // SAFETY: the caller guarantees the structure is mapped and was written by the loader.
    let start: StartInfo = unsafe { read_physical(start_info) };
    if start.magic != START_INFO_MAGIC {
        return Err(PvhError::BadMagic(start.magic));
    }
    if start.version < 1 || start.memory_map == 0 {
        return Err(PvhError::NoMemoryMap);
    }
    for index in 0..u64::from(start.memory_map_entries) {
        let address = start.memory_map + index * size_of::<MemoryMapEntry>() as u64;
        // SAFETY: the loader sized the table with `memory_map_entries`.
        let entry: MemoryMapEntry = unsafe { read_physical(address) };
        let kind = match entry.kind {
            1 => RegionKind::Ram,
            3 => RegionKind::AcpiReclaimable,
            _ => RegionKind::Reserved,
        };
        info.push_region(MemoryRegion {
            base: entry.address,
            size: entry.size,
            kind,
        });
    }
    if start.module_count > 0 && start.module_list != 0 {
        // SAFETY: the first module entry exists when `module_count > 0`.
        let module: ModuleEntry = unsafe { read_physical(start.module_list) };
        info.initrd = Some(PhysicalRange {
            base: module.physical,
            size: module.size,
        });
    }
    if start.command_line != 0 {
        // SAFETY: the loader wrote a NUL-terminated string there.
        let length = unsafe { c_string_length(start.command_line, 4096) };
        info.command_line = Some(PhysicalRange {
            base: start.command_line,
            size: length,
        });
    }
    if start.rsdp != 0 {
        info.acpi_rsdp = Some(start.rsdp);
    }
    Ok(())
}

/// # Safety
/// `physical` must hold a readable `T` (see [`read`]).
unsafe fn read_physical<T: Copy>(physical: u64) -> T {
    let pointer = crate::physical_to_virtual(physical) as *const T;
    // SAFETY: guaranteed by the caller; the loader's structures need not be aligned.
    unsafe { pointer.read_unaligned() }
}

/// # Safety
/// `physical` must point at up to `limit` readable bytes.
unsafe fn c_string_length(physical: u64, limit: u64) -> u64 {
    let base = crate::physical_to_virtual(physical) as *const u8;
    let mut length = 0;
    // SAFETY: guaranteed by the caller; we stop at the NUL or the limit.
    while length < limit && unsafe { base.add(length as usize).read() } != 0 {
        length += 1;
    }
    length
}

use core::mem::size_of;
