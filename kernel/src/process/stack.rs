//! Kernel stacks: one per process, each with an unmapped guard page below it.
//!
//! Stacks live in the kernel-stacks window, slot after slot. Slot 0 is never used: the kernel
//! pinned a page there at boot so the window's top-level entry exists in every process root
//! (see `memory::kernel_space`).

use crate::memory::frames::{self, FrameRun};
use crate::memory::kernel_space;
use alloc::vec::Vec;
use kernel_core::layout::{KERNEL_STACKS_BASE, PAGE_SIZE};
use kernel_core::PageFlags;
use spin::Mutex;

/// Pages of stack per process (32 KiB). 16 KiB proved too thin for debug builds: a system
/// call that rebalances the process table's B-tree (processes are stored by value) while
/// deep in IPC overflowed it into the guard page.
pub const STACK_PAGES: u64 = 8;
/// Bytes each slot spans: the guard page plus the stack.
const SLOT_SIZE: u64 = (STACK_PAGES + 1) * PAGE_SIZE;

/// Slots in use (index = slot number).
static SLOTS: Mutex<Vec<bool>> = Mutex::new(Vec::new());

/// A mapped kernel stack.
#[derive(Debug)]
pub struct KernelStack {
    slot: usize,
    frames: FrameRun,
}

impl KernelStack {
    /// Maps a new stack; `None` when frames, slots or the kernel heap run out.
    pub fn new() -> Option<Self> {
        let mut slots = SLOTS.lock();
        // Room for the pinned slot 0 and one new slot, asked of the heap first.
        slots.try_reserve(2).ok()?;
        if slots.is_empty() {
            slots.push(true);
        }
        let slot = match slots.iter().position(|used| !used) {
            Some(slot) => slot,
            None => {
                slots.push(false);
                slots.len() - 1
            }
        };
        let frames = frames::allocate(STACK_PAGES)?;
        let bottom = KERNEL_STACKS_BASE + slot as u64 * SLOT_SIZE + PAGE_SIZE;
        if kernel_space::map(
            bottom,
            frames.physical,
            STACK_PAGES * PAGE_SIZE,
            PageFlags::kernel().writable(),
        )
        .is_err()
        {
            frames::free(frames);
            return None;
        }
        slots[slot] = true;
        Some(KernelStack { slot, frames })
    }

    /// One past the highest byte: the initial stack pointer.
    pub fn top(&self) -> u64 {
        KERNEL_STACKS_BASE + (self.slot as u64 + 1) * SLOT_SIZE
    }
}

impl Drop for KernelStack {
    fn drop(&mut self) {
        let bottom = KERNEL_STACKS_BASE + self.slot as u64 * SLOT_SIZE + PAGE_SIZE;
        let _ = kernel_space::unmap(bottom, STACK_PAGES * PAGE_SIZE);
        frames::free(self.frames);
        SLOTS.lock()[self.slot] = false;
    }
}
