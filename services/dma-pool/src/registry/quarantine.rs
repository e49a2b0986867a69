//! Quarantine across the registry: release into quarantine, and lift a pool's quarantine.

use super::PoolRegistry;
use crate::{BufferHandle, OwnerId, PoolError, PoolId};

impl PoolRegistry {
    /// Releases `owner`'s buffer like [`release`](Self::release), but keeps its pages out of
    /// the pool until [`release_quarantined`](Self::release_quarantined): its device may
    /// still write into them. The owner is no longer charged for it. Returns its page count;
    /// a stale or foreign handle is refused with [`PoolError::BadHandle`], changing nothing.
    pub fn quarantine(&mut self, handle: BufferHandle, owner: OwnerId) -> Result<u64, PoolError> {
        let pages = self.pool_mut(handle.pool)?.quarantine(handle, owner)?;
        self.owners.released(owner, pages, false);
        Ok(pages)
    }

    /// Returns pool `pool`'s quarantined, unmapped buffers to its free space (their device is
    /// known quiet now); returns (buffers, pages) freed. An unknown pool frees nothing.
    pub fn release_quarantined(&mut self, pool: PoolId) -> (u64, u64) {
        match self.pool_mut(pool) {
            Ok(pool) => pool.release_quarantined(),
            Err(_) => (0, 0),
        }
    }
}
