//! `MmapPrep` and `Munmap`: checked ranges of a buffer, counted mappings.
//!
//! Each `MmapPrep` that succeeds records one mapping (caller, handle, offset, size) and its
//! [`MappingToken`](dma_pool::MappingToken). A `Munmap` names no address, so it takes bytes
//! off one recorded mapping of that handle: the one with exactly its range, else the
//! smallest holding the whole range, else the first it overlaps. A
//! mapping whose bytes are all gone is removed from the pool's count, which frees a
//! released buffer's pages with its last mapping. Records outlive the handle, so unmapping
//! after close works.
//!
//! Cost: mappings are keyed by (owner, handle, offset, size, serial), so the exact match — what
//! the kernel sends for a whole `funmap`, a process's exit, or a client mapping it could not
//! complete — is found in O(log n). Only a partial unmap falls back to looking through the
//! mappings of that one handle, at most [`Limits::mappings_per_client`](super::Limits).
//!
//! A mapping counts against the caller's limits from the `MmapPrep` answer until the
//! kernel's `Munmap`. When the kernel cannot complete a client's mapping after dmad answered
//! (the server's pages do not translate, or the client's address space is full), it sends
//! the `Munmap` for exactly that range at once, so dmad's count falls back.

use super::{Handle, Mapping, MappingKey, Server};
use crate::{Refusal, Reply};
use dma_api::DmaError;
use dma_pool::OwnerId;

impl Server {
    /// Checks `[offset, offset + size)` of the caller's buffer `number` and answers with the
    /// address of those bytes in dmad's own space; counts the mapping. Over a limit
    /// (`ENOMEM`) nothing is counted.
    pub(super) fn map(
        &mut self,
        caller: u32,
        number: u64,
        offset: u64,
        size: u64,
    ) -> Result<Reply, Refusal> {
        let open = self.owned(caller, number)?;
        let held = match &open.handle {
            Handle::Buffer { handle, .. } => Ok(*handle),
            Handle::Import(import) => Err(import.hold),
            _ => return Err(Refusal::new(DmaError::BadHandle, "not a buffer")),
        };
        let owner = OwnerId(caller);
        let range = match held {
            Ok(handle) => self.registry.check_map(handle, owner, offset, size)?,
            Err(hold) => self.registry.check_map_held(hold, offset, size)?,
        };
        self.admit_mapping(caller)?;
        let address = self
            .regions
            .address_of(range.phys, range.len)
            .expect("every pool lies in a region dmad mapped");
        let token = match held {
            Ok(handle) => self.registry.map_added(handle, owner)?,
            Err(hold) => {
                self.registry.map_added_held(hold)?;
                hold
            }
        };
        let serial = self.next_mapping;
        self.next_mapping += 1;
        self.mappings.insert(
            (caller, number, offset, size, serial),
            Mapping {
                remaining: size,
                token,
            },
        );
        self.count(caller, |usage| usage.mappings += 1);
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
        let key = self
            .find_mapping(caller, number, offset, size)
            .ok_or(Refusal::new(DmaError::BadHandle, "no such mapping"))?;
        let mapping = self.mappings.get_mut(&key).expect("found above");
        let (mapping_offset, mapping_size) = (key.2, key.3);
        let end = offset.saturating_add(size);
        let covered = end.min(mapping_offset + mapping_size) - offset.max(mapping_offset);
        mapping.remaining = mapping.remaining.saturating_sub(covered);
        if mapping.remaining == 0 {
            let token = mapping.token;
            self.mappings.remove(&key);
            self.count(caller, |usage| usage.mappings -= 1);
            // An importer's mapping may be the last hold of another owner's buffer.
            let owner = self
                .registry
                .held_buffer(token)
                .map(|buffer| buffer.owner.0);
            let removed = self.registry.map_removed(token);
            if self.usage(caller) == Default::default() {
                self.forget_client(caller);
            }
            if let (Ok(dma_pool::Unmapped::Freed { .. }), Ok(owner)) = (&removed, owner) {
                if owner != caller {
                    self.forget_if_gone(owner);
                }
            }
            removed?;
        }
        Ok(Reply::value(0))
    }

    /// The mapping a `Munmap` of `[offset, offset + size)` of handle `number` takes bytes
    /// off: exactly that range and still whole, else the smallest holding the whole range,
    /// else the first it overlaps.
    fn find_mapping(&self, caller: u32, number: u64, offset: u64, size: u64) -> Option<MappingKey> {
        let exact = self
            .mappings
            .range((caller, number, offset, size, 0)..=(caller, number, offset, size, u64::MAX))
            .find(|(_, mapping)| mapping.remaining == size);
        if let Some((key, _)) = exact {
            return Some(*key);
        }
        let end = offset.saturating_add(size);
        let handle_mappings = || {
            self.mappings
                .range((caller, number, 0, 0, 0)..=(caller, number, u64::MAX, u64::MAX, u64::MAX))
        };
        let containing = handle_mappings()
            .filter(|(key, _)| key.2 <= offset && end <= key.2 + key.3)
            .min_by_key(|(key, _)| key.3);
        let overlapping =
            || handle_mappings().find(|(key, _)| offset.max(key.2) < end.min(key.2 + key.3));
        containing.or_else(overlapping).map(|(key, _)| *key)
    }
}
