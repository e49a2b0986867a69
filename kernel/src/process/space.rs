//! A process's address space: its own page-table tree and the frames it owns.
//!
//! Every user mapping is a [`Region`], mapped with 4 KiB pages and user permissions: a run
//! of frames the space allocated, frames another space lent it (counted: each mapped page
//! holds its frame once, see `memory::frames`), or memory that is no frame allocator's (a
//! DMA pool, device registers: never counted, never freed by the kernel). Destroying the
//! space unmaps every region and lets go of its frames, then frees every table, so a process
//! that exits leaves no frame behind — except those another space still maps, which the last
//! mapper frees. User pointers handed to system calls are checked here
//! ([`UserSpace::check`]) against the live tables before the kernel touches them.
//!
//! Limits: at most [`MAX_REGIONS`] regions per space; one more mapping is refused
//! ([`MapError::OutOfFrames`], ENOMEM at the system call, as Linux's `max_map_count`).
//!
//! Revocation: when a lender (a scheme server) dies, [`UserSpace::revoke`] unmaps every
//! region it lent, directly or as the first lender of memory re-lent by another server. The
//! space remembers the last [`REMEMBERED_REVOCATIONS`] revoked ranges so that a process
//! touching one is killed with that reason rather than a bare page fault.

use super::ProcessId;
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

/// The most mapped regions one process may have (the program image, stack, `fmap`s): each
/// costs kernel heap, so a process mapping page after page cannot exhaust the kernel's.
pub const MAX_REGIONS: usize = 4096;

/// Where anonymous memory (`fmap` with no file) is placed, growing upwards.
const ANONYMOUS_BASE: u64 = 0x0000_2000_0000_0000;

/// How many revoked ranges a space remembers for fault reports.
pub const REMEMBERED_REVOCATIONS: usize = 8;

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
    /// Borrowed allocator frames: each mapped page holds its frame once (see
    /// `memory::frames`). False for owned runs and for pool or device memory.
    pub counted: bool,
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
    /// The server process that lent it.
    pub lender: ProcessId,
    /// Whoever lent it first: the lender itself, or, for memory the lender had borrowed
    /// and re-lent, the first lender of that memory. Its death revokes this mapping too.
    pub first_lender: ProcessId,
}

/// Pages a space can lend from one of its regions.
pub struct Lendable {
    /// Physical address of each page, in order.
    pub pages: Vec<u64>,
    /// The pages' memory type and the least of their rights.
    pub flags: PageFlags,
    /// Whether the pages are allocator frames, which the borrower must hold.
    pub counted: bool,
    /// The first lender of the region's memory, when the region itself is borrowed.
    pub first_lender: Option<ProcessId>,
}

/// A process's address space.
pub struct UserSpace {
    table: UserTable,
    regions: Vec<Region>,
    next_anonymous: u64,
    /// Recently revoked ranges: `(start, end, lender)`, at most [`REMEMBERED_REVOCATIONS`],
    /// oldest overwritten first. On the heap: processes live by value in the process table's
    /// B-tree, whose node operations copy them on the (small) kernel stack.
    revoked: Vec<(u64, u64, ProcessId)>,
    next_revoked: usize,
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
            revoked: Vec::new(),
            next_revoked: 0,
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
        self.make_room()?;
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
            counted: false,
            origin: None,
            flags,
        });
        Ok(self.regions.last().expect("just pushed"))
    }

    /// Room for one more region: refused at [`MAX_REGIONS`] or when the kernel heap cannot
    /// grow the list, so the push that follows never allocates.
    fn make_room(&mut self) -> Result<(), MapError> {
        if self.regions.len() >= MAX_REGIONS || self.regions.try_reserve(1).is_err() {
            return Err(MapError::OutOfFrames);
        }
        Ok(())
    }

    /// Maps memory the space does not own: `pages` (physical address of each 4 KiB page, in
    /// order) at a free address with `flags`; returns the address. Nothing is mapped if any
    /// page fails. With `counted`, the caller has added a holder to each page for this
    /// region (released when it is unmapped; on failure the caller still owns them).
    pub fn map_borrowed(
        &mut self,
        pages: &[u64],
        flags: PageFlags,
        origin: Option<MappingOrigin>,
        counted: bool,
    ) -> Result<u64, MapError> {
        self.make_room()?;
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
            counted,
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

    /// The pages of `[address, address + size)`, which must lie in one region, for lending
    /// to another space; `None` if they do not or are not all mapped for user mode.
    pub fn lendable(&self, address: u64, size: u64) -> Option<Lendable> {
        let end = address.checked_add(size)?;
        let region = self
            .regions
            .iter()
            .find(|region| region.start <= address && end <= region.start + region.size)?;
        let mut pages = Vec::new();
        pages
            .try_reserve(usize::try_from(size / PAGE_SIZE).ok()?)
            .ok()?;
        let mut flags: Option<PageFlags> = None;
        for page in 0..size / PAGE_SIZE {
            let (physical, page_flags) = self.translate(address + page * PAGE_SIZE)?;
            let merged = match flags {
                None => page_flags,
                Some(flags) if flags.cache_type() != page_flags.cache_type() => return None,
                // The least of the pages' rights: writable only if every page is.
                Some(_) if !page_flags.is_writable() => page_flags,
                Some(flags) => flags,
            };
            flags = Some(merged);
            pages.push(physical);
        }
        Some(Lendable {
            pages,
            flags: flags?,
            counted: region.frames.is_some() || region.counted,
            first_lender: region.origin.as_ref().map(|origin| origin.first_lender),
        })
    }

    /// Unmaps every region `lender` lent (directly or first), without telling anyone (the
    /// lender is gone), and lets go of their frames; returns how many there were. The
    /// caller invalidates the TLB afterwards (the space may not be the active one).
    pub fn revoke(&mut self, lender: ProcessId) -> usize {
        let lent = |region: &Region| {
            region
                .origin
                .as_ref()
                .is_some_and(|origin| origin.lender == lender || origin.first_lender == lender)
        };
        let mut revoked = 0;
        while let Some(index) = self.regions.iter().position(lent) {
            let region = self.regions.swap_remove(index);
            let _ = self.release(&region, false);
            self.remember_revoked((region.start, region.start + region.size, lender));
            revoked += 1;
        }
        revoked
    }

    /// Remembers a revoked range for [`Self::revoked_by`], if the heap allows (forgetting one
    /// only makes a later fault report less specific).
    fn remember_revoked(&mut self, range: (u64, u64, ProcessId)) {
        if self.revoked.len() < REMEMBERED_REVOCATIONS {
            if self.revoked.try_reserve(1).is_ok() {
                self.revoked.push(range);
            }
        } else {
            self.revoked[self.next_revoked] = range;
            self.next_revoked = (self.next_revoked + 1) % REMEMBERED_REVOCATIONS;
        }
    }

    /// The lender whose death revoked the mapping that covered `address`, if one did lately.
    pub fn revoked_by(&self, address: u64) -> Option<ProcessId> {
        self.revoked
            .iter()
            .find(|(start, end, _)| (*start..*end).contains(&address))
            .map(|(_, _, lender)| *lender)
    }

    /// Unmaps `region` (already out of the list) and lets go of its frames, invalidating
    /// each page's TLB entry first when `active` (this space is the CPU's).
    fn release(&mut self, region: &Region, active: bool) -> Result<(), MapError> {
        let counted = region.counted;
        let unmapped = self.table.unmap(
            &mut LinearAccess,
            &mut AllocatorFrames,
            region.start,
            region.size,
            |address, physical, _| {
                if active {
                    Cpu::invalidate_page(address);
                }
                if counted {
                    frames::release_pages([physical]);
                }
            },
        );
        // Every other CPU on which this space is live drops its translations before the big
        // lock (held here) is dropped, so before anyone can reuse a frame or pool buffer.
        crate::smp::shootdown_space(self.table.root());
        if let Some(frames) = region.frames {
            frames::release_run(frames);
        }
        unmapped
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
        let region = self.regions.swap_remove(index);
        self.release(&region, true)?;
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
        crate::smp::shootdown_space(self.table.root());
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
            let _ = self.release(&region, false);
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
