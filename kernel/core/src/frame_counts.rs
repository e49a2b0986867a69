//! Who holds each frame: the reference counts behind lending memory between address spaces.
//!
//! Every frame the allocator hands out starts with one holder (the address space that
//! allocated it), and that is not written down: only frames with more than one holder — lent
//! through `fmap` to other spaces — have an entry. Each mapping of a lent frame in another
//! space is one more holder. Whoever lets go last (the owner unmapping, a borrower unmapping,
//! either one exiting) is told to free the frame; nobody else may.
//!
//! Adding holders is all-or-nothing ([`FrameCounts::share`]): the table reserves room for
//! every frame first, so a client mapping that fails leaves no count raised. The table
//! grows with the kernel heap, fallibly: running out is [`OutOfMemory`], never a panic.
//!
//! Only allocator frames are counted. DMA-pool and device frames are never in the frame
//! allocator, so the kernel never frees them and never counts them: their lifetime is their
//! server's (dmad releases a pool buffer only once every `Munmap` for it has arrived).

use alloc::vec::Vec;

#[cfg(test)]
mod tests;

/// The kernel heap could not hold one more entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfMemory;

/// What a holder letting go of a frame must do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// It was the last holder: return the frame to the allocator.
    Free,
    /// Someone else still maps it: leave it allocated.
    StillHeld,
}

/// Holders of frames with more than one, by frame address.
#[derive(Debug, Default)]
pub struct FrameCounts {
    /// `(frame, holders)`, sorted by frame, every `holders` at least 2.
    shared: Vec<(u64, u32)>,
}

impl FrameCounts {
    /// No frame shared.
    pub const fn new() -> Self {
        FrameCounts { shared: Vec::new() }
    }

    /// How many hold `frame`, assuming somebody does (1 when it has no entry).
    pub fn holders(&self, frame: u64) -> u32 {
        match self.find(frame) {
            Ok(index) => self.shared[index].1,
            Err(_) => 1,
        }
    }

    /// Frames with more than one holder.
    pub fn shared_frames(&self) -> usize {
        self.shared.len()
    }

    /// Adds one holder to each of `frames` (each must be held already), or to none of them
    /// when the table cannot grow.
    pub fn share(&mut self, frames: &[u64]) -> Result<(), OutOfMemory> {
        self.shared
            .try_reserve(frames.len())
            .map_err(|_| OutOfMemory)?;
        for &frame in frames {
            match self.find(frame) {
                Ok(index) => {
                    let holders = &mut self.shared[index].1;
                    *holders = holders.saturating_add(1);
                }
                // Cannot reallocate: room for every frame was reserved above.
                Err(index) => self.shared.insert(index, (frame, 2)),
            }
        }
        Ok(())
    }

    /// One holder lets go of `frame`; says whether it was the last.
    pub fn release(&mut self, frame: u64) -> Release {
        match self.find(frame) {
            Err(_) => Release::Free,
            Ok(index) => {
                let holders = &mut self.shared[index].1;
                *holders -= 1;
                if *holders == 1 {
                    self.shared.remove(index);
                }
                Release::StillHeld
            }
        }
    }

    /// Whether any frame at an address in `[first, end)` has more than one holder.
    pub fn any_shared(&self, first: u64, end: u64) -> bool {
        let start = self.shared.partition_point(|&(frame, _)| frame < first);
        self.shared
            .get(start)
            .is_some_and(|&(frame, _)| frame < end)
    }

    fn find(&self, frame: u64) -> Result<usize, usize> {
        self.shared
            .binary_search_by_key(&frame, |&(frame, _)| frame)
    }
}
