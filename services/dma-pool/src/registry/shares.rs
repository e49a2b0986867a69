//! Holds across the registry (see `pool/shares.rs`): a buffer kept alive for a holder that
//! is not its owner, named by a [`MappingToken`].
//!
//! - [`hold`](PoolRegistry::hold) takes a hold on the owner's live buffer;
//! - [`held_buffer`](PoolRegistry::held_buffer), [`check_map_held`](PoolRegistry::check_map_held)
//!   and [`map_added_held`](PoolRegistry::map_added_held) serve the holder;
//! - [`map_removed`](PoolRegistry::map_removed) drops a hold like a mapping: the last one of
//!   a released buffer returns its pages, and the owner's deferred charge with them.
//!
//! The owner stays charged for the pages until they return (an import costs the importer
//! no quota, and exporting cannot take a buffer off the exporter's).

use super::PoolRegistry;
use crate::{BufferHandle, BufferInfo, MapRange, MappingToken, OwnerId, PoolError};

impl PoolRegistry {
    /// Takes a hold on `owner`'s live buffer for someone else; the token names the buffer
    /// until the hold is dropped with [`map_removed`](Self::map_removed), even after the
    /// owner releases it. Counted like a mapping.
    pub fn hold(
        &mut self,
        handle: BufferHandle,
        owner: OwnerId,
    ) -> Result<MappingToken, PoolError> {
        self.map_added(handle, owner)
    }

    /// Describes the buffer a hold or mapping `token` names, while one is left.
    pub fn held_buffer(&self, token: MappingToken) -> Result<BufferInfo, PoolError> {
        self.pool(token.pool)
            .ok_or(PoolError::BadHandle)?
            .held_info(token)
    }

    /// Checks a holder's request to map `[offset, offset + len)` of the buffer `token`
    /// names, with [`check_map`](Self::check_map)'s rules. Changes nothing.
    pub fn check_map_held(
        &self,
        token: MappingToken,
        offset: u64,
        len: u64,
    ) -> Result<MapRange, PoolError> {
        self.pool(token.pool)
            .ok_or(PoolError::BadHandle)?
            .check_map_held(token, offset, len)
    }

    /// Counts a holder's new mapping of the buffer `token` names; removed with
    /// [`map_removed`](Self::map_removed) and the same token.
    pub fn map_added_held(&mut self, token: MappingToken) -> Result<(), PoolError> {
        self.pool_mut(token.pool)?.map_added_held(token)
    }
}
