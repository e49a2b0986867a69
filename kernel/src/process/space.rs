//! A process's address space: its own page-table tree and the frames it owns.
//!
//! Every user mapping is a [`Region`]: one run of frames the space owns, mapped with 4 KiB
//! pages and user permissions. Destroying the space unmaps and frees every region, then every
//! table, so a process that exits leaves no frame behind. User pointers handed to system calls
//! are checked here ([`UserSpace::check`]) against the live tables before the kernel touches
//! them.

use crate::arch::{Arch, Cpu};
use crate::memory::frames::{self, FrameRun};
use crate::memory::kernel_space::{self, AllocatorFrames, LinearAccess};
use alloc::vec::Vec;
use kernel_core::layout::{PAGE_SIZE, USER_TOP};
use kernel_core::paging::{MapError, PageSizes, PageTable, PhysicalAccess, ENTRIES_PER_TABLE};
use kernel_core::ranges::user_range_ok;
use kernel_core::user_mode::UserMode;
use kernel_core::PageFlags;

/// The user page-table tree type on this CPU.
pub type UserTable = PageTable<<Cpu as Arch>::PageTableFormat>;

/// Where anonymous memory (`fmap` with no file) is placed, growing upwards.
/// The most mapped regions one process may have (the program image, stack, `fmap`s): each
/// costs kernel heap, so a process mapping page after page cannot exhaust the kernel's.
pub const MAX_REGIONS: usize = 4096;

const ANONYMOUS_BASE: u64 = 0x0000_2000_0000_0000;

/// One mapped range of the space.
#[derive(Clone, Debug)]
pub struct Region {
    /// First virtual address.
    pub start: u64,
    /// Mapped bytes (a multiple of the page size).
    pub size: u64,
    /// The frames behind it when the space owns them (possibly more pages than mapped: runs
    /// are powers of two); `None` for borrowed memory (a server's buffer, a DMA pool).
    pub frames: Option<FrameRun>,
    /// Who to tell when a borrowed region goes away (a scheme server's `Munmap`).
    pub origin: Option<MappingOrigin>,
    /// The current permissions.
    pub flags: PageFlags,
}

/// Where a borrowed mapping came from: a user scheme's buffer.
#[derive(Clone, Debug)]
pub struct MappingOrigin {
    /// The serving scheme's name.
    pub scheme: alloc::string::String,
    /// The server's handle number.
    pub handle: u64,
    /// Offset of the mapping inside the handle's object.
    pub offset: u64,
}

/// A process's address space.
pub struct UserSpace {
    table: UserTable,
    regions: Vec<Region>,
    next_anonymous: u64,
}

/// Why a user pointer or range was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessError {
    /// Not mapped for user mode with the needed rights (EFAULT).
    Fault,
}

impl UserSpace {
    /// An empty address space that shares the kernel's upper half.
    pub fn new() -> Result<Self, MapError> {
        let table = UserTable::new(&mut AllocatorFrames)?;
        let mut access = LinearAccess;
        let read = |table: u64, index: usize| {
            kernel_core::paging::PhysicalAccess::read_entry(&LinearAccess, table, index)
        };
        let mut write = |table: u64, index: usize, value: u64| {
            kernel_core::paging::PhysicalAccess::write_entry(&mut access, table, index, value)
        };
        Cpu::prepare_user_root(table.root(), kernel_space::root(), &read, &mut write);
        Ok(UserSpace {
            table,
            regions: Vec::new(),
            next_anonymous: ANONYMOUS_BASE,
        })
    }

    /// The root to activate when this space runs.
    pub fn root(&self) -> u64 {
        self.table.root()
    }

    /// Allocates zeroed frames for `size` bytes at `start` and maps them with `flags`.
    pub fn map_new(
        &mut self,
        start: u64,
        size: u64,
        flags: PageFlags,
    ) -> Result<&Region, MapError> {
        let pages = size.div_ceil(PAGE_SIZE);
        let frames = frames::allocate_zeroed(pages).ok_or(MapError::OutOfFrames)?;
        let size = pages * PAGE_SIZE;
        if let Err(error) = self.table.map(
            &mut LinearAccess,
            &mut AllocatorFrames,
            start,
            frames.physical,
            size,
            flags,
            PageSizes::Small,
        ) {
            frames::free(frames);
            return Err(error);
        }
        self.regions.push(Region {
            start,
            size,
            frames: Some(frames),
            origin: None,
            flags,
        });
        Ok(self.regions.last().expect("just pushed"))
    }

    /// Maps memory the space does not own: `pages` (physical address of each 4 KiB page, in
    /// order) at a free address with `flags`; returns the address. Nothing is mapped if any
    /// page fails.
    pub fn map_borrowed(
        &mut self,
        pages: &[u64],
        flags: PageFlags,
        origin: Option<MappingOrigin>,
    ) -> Result<u64, MapError> {
        let start = self.next_anonymous;
        for (index, physical) in pages.iter().enumerate() {
            let address = start + index as u64 * PAGE_SIZE;
            let mapped = self.table.map(
                &mut LinearAccess,
                &mut AllocatorFrames,
                address,
                *physical,
                PAGE_SIZE,
                flags,
                PageSizes::Small,
            );
            if let Err(error) = mapped {
                if index > 0 {
                    let _ = self.table.unmap(
                        &mut LinearAccess,
                        &mut AllocatorFrames,
                        start,
                        index as u64 * PAGE_SIZE,
                        |_, _, _| {},
                    );
                }
                return Err(error);
            }
        }
        let size = pages.len() as u64 * PAGE_SIZE;
        self.regions.push(Region {
            start,
            size,
            frames: None,
            origin,
            flags,
        });
        self.next_anonymous = start + size + PAGE_SIZE;
        Ok(start)
    }

    /// The physical page and flags behind user address `address`, if mapped for user mode.
    pub fn translate(&self, address: u64) -> Option<(u64, PageFlags)> {
        let translation = self.table.translate(&LinearAccess, address)?;
        translation
            .flags
            .is_user()
            .then_some((translation.physical, translation.flags))
    }

    /// Maps fresh zeroed anonymous memory somewhere free; returns its address.
    pub fn map_anonymous(&mut self, size: u64, flags: PageFlags) -> Result<u64, MapError> {
        let start = self.next_anonymous;
        let size = size.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        self.map_new(start, size, flags)?;
        // Leave an unmapped page between anonymous regions.
        self.next_anonymous = start + size + PAGE_SIZE;
        Ok(start)
    }

    /// Unmaps the region starting exactly at `start` with exactly `size` bytes, freeing its
    /// frames if the space owns them; returns where a borrowed region came from.
    pub fn unmap_region(
        &mut self,
        start: u64,
        size: u64,
    ) -> Result<Option<MappingOrigin>, MapError> {
        let index = self
            .regions
            .iter()
            .position(|region| {
                region.start == start && region.size == size.div_ceil(PAGE_SIZE) * PAGE_SIZE
            })
            .ok_or(MapError::NotMapped)?;
        let region = self.regions.remove(index);
        self.table.unmap(
            &mut LinearAccess,
            &mut AllocatorFrames,
            region.start,
            region.size,
            |address, _, _| Cpu::invalidate_page(address),
        )?;
        if let Some(frames) = region.frames {
            frames::free(frames);
        }
        Ok(region.origin)
    }

    /// Changes the permissions of `[start, start + size)`, which must lie in one region.
    /// The memory type never changes (a pool page must not gain a cacheable mapping), and a
    /// borrowed region never gains rights its lender did not give: `Err(None)` then.
    pub fn protect(
        &mut self,
        start: u64,
        size: u64,
        flags: PageFlags,
    ) -> Result<(), Option<MapError>> {
        let end = start.checked_add(size).ok_or(Some(MapError::Overflow))?;
        let region = self
            .regions
            .iter_mut()
            .find(|region| region.start <= start && end <= region.start + region.size)
            .ok_or(Some(MapError::NotMapped))?;
        let flags = flags.cache(region.flags.cache_type());
        if region.frames.is_none() && !flags.is_within(region.flags) {
            return Err(None);
        }
        self.table
            .protect(&mut LinearAccess, start, size, flags, Cpu::invalidate_page)
            .map_err(Some)?;
        if start == region.start && size == region.size && region.frames.is_some() {
            region.flags = flags;
        }
        Ok(())
    }

    /// Checks that every byte of `[address, address + length)` is mapped for user mode,
    /// writable too when `write`. Zero-length ranges are fine anywhere below the user top.
    pub fn check(&self, address: u64, length: u64, write: bool) -> Result<(), AccessError> {
        let range = user_range_ok(address, length, USER_TOP).map_err(|_| AccessError::Fault)?;
        let mut page = range.start & !(PAGE_SIZE - 1);
        while page < range.end {
            let translation = self
                .table
                .translate(&LinearAccess, page)
                .ok_or(AccessError::Fault)?;
            let flags = translation.flags;
            if !flags.is_user() || (write && !flags.is_writable()) {
                return Err(AccessError::Fault);
            }
            page += PAGE_SIZE;
        }
        Ok(())
    }

    /// Whether the space holds [`MAX_REGIONS`] regions: `fmap` then refuses with `ENOMEM`.
    pub fn is_full(&self) -> bool {
        self.regions.len() >= MAX_REGIONS
    }

    /// Frames this space owns (for `sys:` and tests).
    pub fn owned_pages(&self) -> u64 {
        self.regions
            .iter()
            .filter_map(|region| region.frames)
            .map(|frames| frames.pages)
            .sum()
    }

    /// Unmaps and frees everything, then the tables; returns the origins of borrowed
    /// regions, whose servers must be told.
    ///
    /// The caller must have switched away from this space's root first.
    pub fn destroy(mut self) -> Vec<(MappingOrigin, u64)> {
        let mut origins = Vec::new();
        for region in core::mem::take(&mut self.regions) {
            let _ = self.table.unmap(
                &mut LinearAccess,
                &mut AllocatorFrames,
                region.start,
                region.size,
                |_, _, _| {},
            );
            if let Some(frames) = region.frames {
                frames::free(frames);
            }
            if let Some(origin) = region.origin {
                origins.push((origin, region.size));
            }
        }
        Cpu::invalidate_all();
        // The upper half of a process root holds copies of the kernel's top-level entries
        // (x86_64) or nothing (aarch64); either way those tables are the kernel's, not ours.
        let mut access = LinearAccess;
        for index in ENTRIES_PER_TABLE / 2..ENTRIES_PER_TABLE {
            access.write_entry(self.table.root(), index, 0);
        }
        self.table.destroy(&LinearAccess, &mut AllocatorFrames);
        origins
    }
}
