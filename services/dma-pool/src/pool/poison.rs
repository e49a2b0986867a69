//! A pool's side of debug mode (see `crate::poison`): switching it, draining the freed
//! buffers to poison, and zeroing a new buffer run by run, checking what was poisoned.

use alloc::boxed::Box;

use super::Pool;
use crate::poison::{FreedRange, PoisonStats, Poisoning};
use crate::{Zeroer, PAGE_SHIFT};

impl Pool {
    /// Turns poisoning on (state sized by the page count, allocated here) or off (state
    /// dropped: nothing poisoned is checked any more). Turning it on again starts afresh.
    pub(crate) fn set_poisoning(&mut self, on: bool) {
        match (on, self.poisoning.is_some()) {
            (true, false) => self.poisoning = Some(Box::new(Poisoning::new(self.pages()))),
            (false, true) => self.poisoning = None,
            _ => {}
        }
    }

    /// The pool's poisoning figures, if poisoning is on.
    pub fn poison_stats(&self) -> Option<PoisonStats> {
        self.poisoning.as_ref().map(|poisoning| poisoning.stats())
    }

    /// Hands every freed buffer waiting for poison to `poison` and marks its pages poisoned.
    pub(crate) fn drain_freed(&mut self, poison: &mut impl FnMut(&FreedRange)) {
        let Some(mut poisoning) = self.poisoning.take() else {
            return;
        };
        poisoning.drain(|first_page, order, owner| {
            let (phys, device_address) = self.addresses(first_page);
            poison(&FreedRange {
                pool: self.id,
                phys,
                device_address,
                len: (1u64 << order) << PAGE_SHIFT,
                owner,
            });
        });
        self.poisoning = Some(poisoning);
    }

    /// Zeroes the new buffer of `pages` pages at `first_page` through `zeroer`: one `zero`
    /// call for the whole buffer when poisoning is off, else one call per run of pages
    /// alike, `check_and_zero` for poisoned runs.
    pub(crate) fn zero_new<Z: Zeroer + ?Sized>(
        &mut self,
        first_page: u64,
        pages: u64,
        zeroer: &mut Z,
    ) {
        let Some(mut poisoning) = self.poisoning.take() else {
            let (phys, _) = self.addresses(first_page);
            zeroer.zero(phys, pages << PAGE_SHIFT);
            return;
        };
        poisoning.take(first_page, pages, |first, count, poisoned| {
            let (phys, _) = self.addresses(first);
            if poisoned {
                zeroer.check_and_zero(phys, count << PAGE_SHIFT);
            } else {
                zeroer.zero(phys, count << PAGE_SHIFT);
            }
        });
        self.poisoning = Some(poisoning);
    }
}
