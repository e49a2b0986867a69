//! Holds: a buffer kept alive for someone other than its owner (dmad's shared buffers).
//!
//! dmad lets a buffer's owner export it to another process (`dma:` sharing, in the spirit
//! of Linux's dma-buf). The pool does not know importers: an import *holds* the buffer the
//! way a mapping does — one more count in the record's `mappings` — so the rules already
//! written for mappings give the lifetime: the owner's release kills its handle and moves
//! its charge to `deferred`, and the pages return with the last mapping *or hold*. An
//! importer names the buffer by the [`MappingToken`] its hold returned, never by the owner's
//! handle, so it keeps working after the owner released (or was quarantined).
//!
//! A hold is only taken on the owner's live buffer ([`Pool::map_added`]); afterwards, a
//! record that is occupied and counts at least one mapping or hold is *held*, and the
//! holder may map it and add mappings through its token.

use super::Pool;
use crate::buffers::{BufferRecord, RecordState};
use crate::{BufferInfo, MapRange, MappingToken, PoolError};

impl Pool {
    /// The occupied record `token` names, if something still maps or holds it.
    pub(crate) fn held_record(&self, token: MappingToken) -> Result<&BufferRecord, PoolError> {
        match self.buffers.get(token.slot, token.generation) {
            Some(record)
                if token.pool == self.id
                    && record.state != RecordState::Vacant
                    && record.mappings > 0 =>
            {
                Ok(record)
            }
            _ => Err(PoolError::BadHandle),
        }
    }

    /// Describes the held buffer `token` names.
    pub(crate) fn held_info(&self, token: MappingToken) -> Result<BufferInfo, PoolError> {
        let record = self.held_record(token)?;
        let handle = crate::BufferHandle {
            pool: token.pool,
            slot: token.slot,
            generation: token.generation,
        };
        Ok(self.describe(handle, record))
    }

    /// [`check_map`](Pool::check_map) for a holder: the same range checks on the held
    /// buffer, whoever owns it and whether or not its owner released it.
    pub(crate) fn check_map_held(
        &self,
        token: MappingToken,
        offset: u64,
        len: u64,
    ) -> Result<MapRange, PoolError> {
        let record = self.held_record(token)?;
        self.map_range(record, offset, len)
    }

    /// Counts one more mapping (or hold) of the held buffer `token` names.
    pub(crate) fn map_added_held(&mut self, token: MappingToken) -> Result<(), PoolError> {
        let mappings = self
            .held_record(token)?
            .mappings
            .checked_add(1)
            .ok_or(PoolError::InvalidRequest("too many mappings"))?;
        self.buffers
            .get_mut(token.slot, token.generation)
            .expect("checked above")
            .mappings = mappings;
        Ok(())
    }
}
