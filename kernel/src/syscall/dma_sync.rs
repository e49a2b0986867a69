//! `SYS_DMA_SYNC`: cache maintenance for DMA on the caller's own memory.
//!
//! A driver calls it around a transfer through a buffer mapped write-back (a pool declared
//! `cache = "wb"`) when the device does not snoop the CPU's caches; aarch64 user mode cannot
//! do it itself (`dc ivac` is EL1-only, and `SCTLR_EL1.UCI` is clear). Rules and line
//! arithmetic are `kernel_core::dma_sync`'s: the request is checked (direction, overflow,
//! length, user half), then every page of the range against the caller's tables — user,
//! and writable for a direction that invalidates — before a single line is touched, so a
//! refused call changes nothing. Only pages mapped write-back get cache maintenance; the
//! call always ends with the arch's DMA barrier (`dsb sy`, `mfence`). All of it runs under
//! the process table's lock (and the big kernel lock), so no thread can unmap the range
//! between the check and the maintenance.

use super::Outcome;
use crate::arch::{Arch, Cpu};
use crate::process;
use kernel_core::dma_sync::{LinePlan, SyncRequest};
use kernel_core::layout::{PAGE_SIZE, USER_TOP};
use kernel_core::{CacheType, Error};

/// `dma_sync(address, length, direction)`.
pub fn sync(address: usize, length: usize, direction: usize) -> Outcome {
    let request = SyncRequest::new(address as u64, length as u64, direction, USER_TOP)?;
    process::with(|table| {
        let space = table.running_space().ok_or(Error::BadAddress)?;
        for page in request.pages(PAGE_SIZE) {
            let (_, flags) = space.translate(page).ok_or(Error::BadAddress)?;
            if request.direction.needs_write() && !flags.is_writable() {
                return Err(Error::BadAddress);
            }
        }
        let line = Cpu::dma_cache_line();
        for page in request.pages(PAGE_SIZE) {
            let cached = space
                .translate(page)
                .is_some_and(|(_, flags)| flags.cache_type() == CacheType::WriteBack);
            if cached {
                let plan = LinePlan::new(request.within(page, PAGE_SIZE), request.direction, line);
                // SAFETY: every page of the request was just found mapped for user mode in
                // the running space, which is the active one during its system call, and
                // writable where the direction invalidates; the process table's lock, held
                // until the end, keeps any thread from unmapping it meanwhile.
                unsafe { Cpu::dma_sync_lines(&plan, request.direction) };
            }
        }
        Ok(())
    })?;
    Cpu::dma_barrier();
    Ok(0)
}
