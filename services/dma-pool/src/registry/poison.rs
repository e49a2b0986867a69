//! Debug mode across the registry (see `crate::poison`): the switch, and draining every
//! pool's freed buffers for dmad to poison.

use super::PoolRegistry;
use crate::poison::FreedRange;

impl PoolRegistry {
    /// Turns poisoning on or off for every pool, now and declared later. Off by default;
    /// dmad turns it on unless told otherwise. Turning it on allocates one bit per page per
    /// pool; pages freed before are not poisoned (so not checked).
    pub fn set_poisoning(&mut self, on: bool) {
        self.poisoning = on;
        for pool in self.pools.iter_mut().flatten() {
            pool.set_poisoning(on);
        }
    }

    /// Whether pools poison freed pages.
    pub fn is_poisoning(&self) -> bool {
        self.poisoning
    }

    /// Hands every buffer freed since the last drain to `poison`, which must fill its
    /// range with [`POISON`](crate::POISON) before returning; its pages are then checked
    /// when next allocated. Call after every request that may have freed pages, before the
    /// next allocation (an allocation that takes pages still pending just zeroes them).
    /// Allocates nothing; O(buffers freed + their pages / 64).
    pub fn drain_freed(&mut self, mut poison: impl FnMut(&FreedRange)) {
        if !self.poisoning {
            return;
        }
        for pool in self.pools.iter_mut().flatten() {
            pool.drain_freed(&mut poison);
        }
    }
}
