//! Loading an ELF program from the initfs into a new address space.
//!
//! [`kernel_core::elf::LoadPlan`] has already refused anything unsafe (wrong CPU, segments
//! outside user space, W+X, overlaps). Each segment gets fresh zeroed frames mapped with its
//! own permissions; file bytes are copied through the linear map. The stack is
//! `USER_STACK_SIZE` bytes below `USER_STACK_TOP` with nothing mapped beneath it (the guard).
//! At its top sits the argument block `userlib` reads: `[argc][argv[0..argc]][0]` followed by
//! the NUL-terminated strings, its address passed in the first argument register.

use super::space::UserSpace;
use crate::arch::{Arch, Cpu};
use crate::memory::physical_to_virtual;
use alloc::vec::Vec;
use kernel_core::abi::{USER_IMAGE_BASE, USER_STACK_SIZE, USER_STACK_TOP};
use kernel_core::elf::{ElfError, LoadPlan, Machine};
use kernel_core::layout::PAGE_SIZE;
use kernel_core::paging::MapError;
use kernel_core::PageFlags;

/// Why a program could not be loaded.
#[derive(Debug)]
#[allow(
    dead_code,
    reason = "the causes are read through Debug in spawn failure logs"
)]
pub enum LoadError {
    /// The file is not a loadable program for this CPU (ENOEXEC).
    Elf(ElfError),
    /// Out of memory or a mapping problem (ENOMEM).
    Memory(MapError),
    /// The arguments do not fit on the stack (E2BIG → EINVAL).
    ArgumentsTooLarge,
}

/// A loaded program, ready to enter.
pub struct Loaded {
    /// The address space holding it.
    pub space: UserSpace,
    /// Where to start.
    pub entry: u64,
    /// The initial user stack pointer (16-byte aligned).
    pub stack_pointer: u64,
    /// The argument block's address (first argument register).
    pub arguments: u64,
}

/// The most bytes of arguments a program may be given.
const MAX_ARGUMENT_BYTES: usize = 16 * 1024;

/// Loads `file` for `machine` with `arguments` (argv[0] first).
pub fn load(file: &[u8], machine: Machine, arguments: &[&[u8]]) -> Result<Loaded, LoadError> {
    let stack_bottom = USER_STACK_TOP - USER_STACK_SIZE;
    let plan = LoadPlan::parse(file, machine, USER_IMAGE_BASE, stack_bottom - PAGE_SIZE)
        .map_err(LoadError::Elf)?;
    let mut space = UserSpace::new().map_err(LoadError::Memory)?;
    match fill(&mut space, &plan, file, arguments) {
        Ok((stack_pointer, arguments)) => Ok(Loaded {
            space,
            entry: plan.entry,
            stack_pointer,
            arguments,
        }),
        Err(error) => {
            space.destroy();
            Err(error)
        }
    }
}

fn fill(
    space: &mut UserSpace,
    plan: &LoadPlan,
    file: &[u8],
    arguments: &[&[u8]],
) -> Result<(u64, u64), LoadError> {
    for segment in plan.segments() {
        let (start, end) = segment.pages();
        let region = space
            .map_new(start, end - start, segment.flags)
            .map_err(LoadError::Memory)?
            .clone();
        let offset = (segment.virtual_start - start) as usize;
        let source =
            &file[segment.file_offset as usize..(segment.file_offset + segment.file_size) as usize];
        let frames = region.frames.expect("map_new owns its frames");
        let destination = physical_to_virtual(frames.physical) as *mut u8;
        // SAFETY: the region's frames were just allocated and zeroed for this segment and are
        // reachable through the linear map; `offset + file_size <= end - start` by the plan.
        unsafe {
            core::ptr::copy_nonoverlapping(source.as_ptr(), destination.add(offset), source.len())
        };
        if segment.flags.is_executable() {
            Cpu::synchronize_code(destination as usize, (end - start) as usize);
        }
    }
    let stack_bottom = USER_STACK_TOP - USER_STACK_SIZE;
    let stack = space
        .map_new(stack_bottom, USER_STACK_SIZE, PageFlags::user().writable())
        .map_err(LoadError::Memory)?
        .frames
        .expect("map_new owns its frames");
    let block = argument_block(arguments, USER_STACK_TOP)?;
    let block_start = USER_STACK_TOP - block.len() as u64;
    let stack_base = physical_to_virtual(stack.physical) as *mut u8;
    // SAFETY: the block lies in the top of the stack region just mapped (checked by
    // `argument_block`'s size limit), reachable through the linear map.
    unsafe {
        core::ptr::copy_nonoverlapping(
            block.as_ptr(),
            stack_base.add((block_start - stack_bottom) as usize),
            block.len(),
        )
    };
    Ok((block_start, block_start))
}

/// Builds the argument block that ends at `top`: pointers first, then the strings; its size
/// is a multiple of 16 so the stack stays aligned.
fn argument_block(arguments: &[&[u8]], top: u64) -> Result<Vec<u8>, LoadError> {
    let strings: usize = arguments.iter().map(|argument| argument.len() + 1).sum();
    let pointers = (arguments.len() + 2) * 8;
    let size = (pointers + strings).next_multiple_of(16);
    if size > MAX_ARGUMENT_BYTES {
        return Err(LoadError::ArgumentsTooLarge);
    }
    let start = top - size as u64;
    let mut block = Vec::new();
    block
        .try_reserve_exact(size)
        .map_err(|_| LoadError::Memory(MapError::OutOfFrames))?;
    block.extend_from_slice(&(arguments.len() as u64).to_le_bytes());
    let mut string_address = start + pointers as u64;
    for argument in arguments {
        block.extend_from_slice(&string_address.to_le_bytes());
        string_address += argument.len() as u64 + 1;
    }
    block.extend_from_slice(&0u64.to_le_bytes());
    for argument in arguments {
        block.extend_from_slice(argument);
        block.push(0);
    }
    block.resize(size, 0);
    Ok(block)
}
