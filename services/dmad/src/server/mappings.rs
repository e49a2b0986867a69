//! `MmapPrep` and `Munmap`: checked ranges of a buffer, counted mappings.
//!
//! Each `MmapPrep` that succeeds records one mapping (caller, handle, offset, size) and its
//! [`MappingToken`](dma_pool::MappingToken). A `Munmap` names no address, so it takes bytes
//! off one recorded mapping of that handle: the one with exactly its range, else the
//! smallest holding the whole range, else the first it overlaps. A
//! mapping whose bytes are all gone is removed from the pool's count, which frees a
//! released buffer's pages with its last mapping. Records outlive the handle, so unmapping
//! after close works.

use super::{Handle, Mapping, Server};
use crate::{Refusal, Reply};
use dma_api::DmaError;
use dma_pool::OwnerId;

impl Server {
    /// Checks `[offset, offset + size)` of the caller's buffer `number` and answers with the
    /// address of those bytes in dmad's own space; counts the mapping.
    pub(super) fn map(
        &mut self,
        caller: u32,
        number: u64,
        offset: u64,
        size: u64,
    ) -> Result<Reply, Refusal> {
        let open = self.owned(caller, number)?;
        let Handle::Buffer { handle, .. } = open.handle else {
            return Err(Refusal::new(DmaError::BadHandle, "not a buffer"));
        };
        let owner = OwnerId(caller);
        let range = self.registry.check_map(handle, owner, offset, size)?;
        let address = self
            .regions
            .address_of(range.phys, range.len)
            .expect("every pool lies in a region dmad mapped");
        let token = self.registry.map_added(handle, owner)?;
        self.mappings.push(Mapping {
            owner: caller,
            handle: number,
            offset,
            size,
            remaining: size,
            token,
        });
        Ok(Reply::value(address))
    }

    /// Takes `[offset, offset + size)` off the caller's mappings of handle `number`.
    pub(super) fn unmap(
        &mut self,
        caller: u32,
        number: u64,
        offset: u64,
        size: u64,
    ) -> Result<Reply, Refusal> {
        let end = offset.saturating_add(size);
        let overlap = |mapping: &Mapping| {
            let mapping_end = mapping.offset + mapping.size;
            offset.max(mapping.offset) < end.min(mapping_end)
        };
        let ours = |mapping: &Mapping| mapping.owner == caller && mapping.handle == number;
        let exact = self.mappings.iter().position(|mapping| {
            ours(mapping)
                && mapping.offset == offset
                && mapping.size == size
                && mapping.remaining == size
        });
        // Otherwise the smallest mapping holding the whole range, else any it overlaps.
        let containing = self
            .mappings
            .iter()
            .enumerate()
            .filter(|(_, mapping)| {
                ours(mapping) && mapping.offset <= offset && end <= mapping.offset + mapping.size
            })
            .min_by_key(|(_, mapping)| mapping.size)
            .map(|(index, _)| index);
        let index = exact
            .or(containing)
            .or_else(|| {
                self.mappings
                    .iter()
                    .position(|mapping| ours(mapping) && overlap(mapping))
            })
            .ok_or(Refusal::new(DmaError::BadHandle, "no such mapping"))?;
        let mapping = &mut self.mappings[index];
        let covered = end.min(mapping.offset + mapping.size) - offset.max(mapping.offset);
        mapping.remaining = mapping.remaining.saturating_sub(covered);
        if mapping.remaining == 0 {
            let token = self.mappings.swap_remove(index).token;
            self.registry.map_removed(token)?;
            if !self.handles.values().any(|open| open.owner == caller)
                && !self.mappings.iter().any(|mapping| mapping.owner == caller)
            {
                self.forget_client(caller);
            }
        }
        Ok(Reply::value(0))
    }
}
