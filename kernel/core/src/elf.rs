//! Reading an ELF64 executable into a load plan, refusing anything unsafe to load.
//!
//! The kernel loads user programs from the initfs. A program is an allegation like any user
//! input: [`LoadPlan::parse`] checks the header (ELF64, little-endian, executable, this
//! machine), every `PT_LOAD` segment (file range inside the file, `filesz <= memsz`, no
//! overflow, entirely in user space below `user_top`, page-compatible alignment, never both
//! writable and executable) and that segments do not overlap, and that the entry point lies
//! in an executable segment. Anything else is an [`ElfError`], never a panic.

use crate::layout::PAGE_SIZE;
use crate::PageFlags;

/// The CPU a program must be built for (`e_machine`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Machine {
    /// `EM_X86_64` (62).
    X86_64,
    /// `EM_AARCH64` (183).
    Aarch64,
}

impl Machine {
    const fn number(self) -> u16 {
        match self {
            Machine::X86_64 => 62,
            Machine::Aarch64 => 183,
        }
    }
}

/// Why a file cannot be loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Not an ELF file, or not ELF64 little-endian version 1.
    NotElf,
    /// Not an executable (`ET_EXEC`).
    NotExecutable,
    /// Built for another CPU.
    WrongMachine,
    /// A header or table lies outside the file or has an unexpected size.
    Truncated,
    /// A segment's numbers are inconsistent (overflow, `filesz > memsz`, bad alignment).
    BadSegment,
    /// A segment reaches outside user space or below the lowest loadable address.
    OutsideUserSpace,
    /// A segment is both writable and executable.
    WritableAndExecutable,
    /// Two segments share a page.
    Overlapping,
    /// No loadable segment, or more than [`MAX_SEGMENTS`].
    SegmentCount,
    /// The entry point is not inside an executable segment.
    BadEntry,
}

/// The most `PT_LOAD` segments a program may have.
pub const MAX_SEGMENTS: usize = 8;

/// One segment to load: map `[virtual_start, virtual_start + memory_size)` (page-rounded)
/// with `flags`, copy `file_size` bytes from `file_offset`, zero the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// First virtual address of the segment's data (not necessarily page-aligned).
    pub virtual_start: u64,
    /// Bytes in memory.
    pub memory_size: u64,
    /// Offset of the data in the file.
    pub file_offset: u64,
    /// Bytes taken from the file; the rest (`.bss`) is zero.
    pub file_size: u64,
    /// User permissions: readable always, writable and executable as the segment says.
    pub flags: PageFlags,
}

impl Segment {
    /// The page-aligned virtual range the segment occupies.
    pub fn pages(&self) -> (u64, u64) {
        let start = self.virtual_start & !(PAGE_SIZE - 1);
        let end = (self.virtual_start + self.memory_size).next_multiple_of(PAGE_SIZE);
        (start, end)
    }
}

/// A checked program: where to enter and what to map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    /// The entry point.
    pub entry: u64,
    segments: [Option<Segment>; MAX_SEGMENTS],
}

const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const ET_EXEC: u16 = 2;
const HEADER_SIZE: usize = 64;
const PROGRAM_HEADER_SIZE: usize = 56;

fn read<const N: usize>(bytes: &[u8], offset: usize) -> Result<[u8; N], ElfError> {
    let end = offset.checked_add(N).ok_or(ElfError::Truncated)?;
    bytes
        .get(offset..end)
        .and_then(|slice| slice.try_into().ok())
        .ok_or(ElfError::Truncated)
}

fn u16_at(bytes: &[u8], offset: usize) -> Result<u16, ElfError> {
    Ok(u16::from_le_bytes(read(bytes, offset)?))
}

fn u32_at(bytes: &[u8], offset: usize) -> Result<u32, ElfError> {
    Ok(u32::from_le_bytes(read(bytes, offset)?))
}

fn u64_at(bytes: &[u8], offset: usize) -> Result<u64, ElfError> {
    Ok(u64::from_le_bytes(read(bytes, offset)?))
}

impl LoadPlan {
    /// Checks `file` and returns what to load, for `machine`, with every segment at or
    /// above `user_bottom` and below `user_top`.
    pub fn parse(
        file: &[u8],
        machine: Machine,
        user_bottom: u64,
        user_top: u64,
    ) -> Result<Self, ElfError> {
        if file.get(..4) != Some(b"\x7fELF")
            || file.get(4) != Some(&2)
            || file.get(5) != Some(&1)
            || file.get(6) != Some(&1)
        {
            return Err(ElfError::NotElf);
        }
        if file.len() < HEADER_SIZE {
            return Err(ElfError::Truncated);
        }
        if u16_at(file, 16)? != ET_EXEC {
            return Err(ElfError::NotExecutable);
        }
        if u16_at(file, 18)? != machine.number() {
            return Err(ElfError::WrongMachine);
        }
        let entry = u64_at(file, 24)?;
        let table = usize::try_from(u64_at(file, 32)?).map_err(|_| ElfError::Truncated)?;
        let entry_size = usize::from(u16_at(file, 54)?);
        let count = usize::from(u16_at(file, 56)?);
        if entry_size != PROGRAM_HEADER_SIZE {
            return Err(ElfError::Truncated);
        }
        let mut plan = LoadPlan {
            entry,
            segments: [None; MAX_SEGMENTS],
        };
        let mut loaded = 0;
        for index in 0..count {
            let header = table
                .checked_add(
                    index
                        .checked_mul(PROGRAM_HEADER_SIZE)
                        .ok_or(ElfError::Truncated)?,
                )
                .ok_or(ElfError::Truncated)?;
            if u32_at(file, header)? != PT_LOAD {
                continue;
            }
            let segment = read_segment(file, header, user_bottom, user_top)?;
            if segment.memory_size == 0 {
                continue;
            }
            let slot = plan
                .segments
                .get_mut(loaded)
                .ok_or(ElfError::SegmentCount)?;
            *slot = Some(segment);
            loaded += 1;
        }
        if loaded == 0 {
            return Err(ElfError::SegmentCount);
        }
        plan.check_overlaps()?;
        let entry_ok = plan.segments().any(|segment| {
            segment.flags.is_executable()
                && segment.virtual_start <= entry
                && entry < segment.virtual_start + segment.memory_size
        });
        if !entry_ok {
            return Err(ElfError::BadEntry);
        }
        Ok(plan)
    }

    /// The segments to load, in file order.
    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.segments.iter().flatten()
    }

    fn check_overlaps(&self) -> Result<(), ElfError> {
        for (index, first) in self.segments().enumerate() {
            for second in self.segments().skip(index + 1) {
                let (a_start, a_end) = first.pages();
                let (b_start, b_end) = second.pages();
                if a_start < b_end && b_start < a_end {
                    return Err(ElfError::Overlapping);
                }
            }
        }
        Ok(())
    }
}

fn read_segment(
    file: &[u8],
    header: usize,
    user_bottom: u64,
    user_top: u64,
) -> Result<Segment, ElfError> {
    let flags = u32_at(file, header + 4)?;
    let file_offset = u64_at(file, header + 8)?;
    let virtual_start = u64_at(file, header + 16)?;
    let file_size = u64_at(file, header + 32)?;
    let memory_size = u64_at(file, header + 40)?;
    let alignment = u64_at(file, header + 48)?;
    if file_size > memory_size {
        return Err(ElfError::BadSegment);
    }
    let file_end = file_offset
        .checked_add(file_size)
        .ok_or(ElfError::BadSegment)?;
    if file_end > file.len() as u64 {
        return Err(ElfError::Truncated);
    }
    if alignment > 1
        && (!alignment.is_power_of_two()
            || virtual_start % alignment.min(PAGE_SIZE) != file_offset % alignment.min(PAGE_SIZE))
    {
        return Err(ElfError::BadSegment);
    }
    let end = virtual_start
        .checked_add(memory_size)
        .ok_or(ElfError::BadSegment)?;
    let page_end = end
        .checked_next_multiple_of(PAGE_SIZE)
        .ok_or(ElfError::OutsideUserSpace)?;
    if virtual_start < user_bottom || page_end > user_top {
        return Err(ElfError::OutsideUserSpace);
    }
    if flags & PF_W != 0 && flags & PF_X != 0 {
        return Err(ElfError::WritableAndExecutable);
    }
    let mut page_flags = PageFlags::user();
    if flags & PF_W != 0 {
        page_flags = page_flags.writable();
    }
    if flags & PF_X != 0 {
        page_flags = page_flags.executable();
    }
    Ok(Segment {
        virtual_start,
        memory_size,
        file_offset,
        file_size,
        flags: page_flags,
    })
}

#[cfg(test)]
mod tests;
