//! The buffer table: a fixed-capacity slab of buffer records with generations, plus
//! per-chunk lists that find the buffer starting at a given page.
//!
//! Records are allocated once, when the pool is declared; vacant records form a free list,
//! so inserting and removing never allocate. Every occupied record is also linked into the
//! list of the 64-page chunk holding its first page. A chunk has at most 64 buffer starts, so
//! finding "the live buffer starting at this page" walks at most 64 records.

use alloc::vec;
use alloc::vec::Vec;

use crate::OwnerId;

/// Marks the end of a list.
const NONE: u32 = u32::MAX;

/// What a record holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecordState {
    /// Nothing; on the free list.
    Vacant,
    /// A buffer its owner holds.
    Live,
    /// A buffer its owner released that is still mapped.
    Released,
    /// A released buffer its device may still reach: its pages stay out of the free space
    /// until [`Pool::release_quarantined`](crate::Pool::release_quarantined).
    Quarantined,
}

/// One buffer (28 bytes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BufferRecord {
    /// Index of its first page in the pool.
    pub(crate) first_page: u32,
    /// log2 of its page count.
    pub(crate) order: u8,
    /// Live, released or vacant.
    pub(crate) state: RecordState,
    /// Its owner.
    pub(crate) owner: OwnerId,
    /// Bumped each time the record is vacated; handles carry the value they were issued with.
    pub(crate) generation: u32,
    /// Live mappings.
    pub(crate) mappings: u32,
    /// Next record in the free list or in the chunk's list.
    next: u32,
    /// Previous record in the chunk's list.
    previous: u32,
}

impl BufferRecord {
    /// Pages in the buffer.
    #[inline]
    pub(crate) fn pages(&self) -> u64 {
        1 << self.order
    }
}

/// The slab of buffer records and the per-chunk lists.
#[derive(Clone, Debug)]
pub(crate) struct BufferTable {
    records: Vec<BufferRecord>,
    /// First vacant record.
    vacant_head: u32,
    /// First record of each chunk slot's list.
    chunk_heads: Vec<u32>,
}

impl BufferTable {
    /// A table of `capacity` vacant records for a pool spanning `chunk_slots` chunks.
    pub(crate) fn new(capacity: u32, chunk_slots: usize) -> Self {
        let records = (0..capacity)
            .map(|slot| BufferRecord {
                first_page: 0,
                order: 0,
                state: RecordState::Vacant,
                owner: OwnerId(0),
                generation: 0,
                mappings: 0,
                next: if slot + 1 < capacity { slot + 1 } else { NONE },
                previous: NONE,
            })
            .collect();
        BufferTable {
            records,
            vacant_head: if capacity > 0 { 0 } else { NONE },
            chunk_heads: vec![NONE; chunk_slots],
        }
    }

    /// Whether every record is occupied.
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.vacant_head == NONE
    }

    /// Bytes the records take.
    pub(crate) fn record_bytes(&self) -> usize {
        self.records.len() * core::mem::size_of::<BufferRecord>()
    }

    /// Bytes the per-chunk list heads take.
    pub(crate) fn chunk_index_bytes(&self) -> usize {
        self.chunk_heads.len() * core::mem::size_of::<u32>()
    }

    /// Records a live buffer; returns its slot and generation.
    ///
    /// # Panics
    ///
    /// Panics if the table is full; callers check [`is_full`](Self::is_full) first.
    #[inline]
    pub(crate) fn insert(
        &mut self,
        first_page: u32,
        order: u8,
        owner: OwnerId,
        chunk_slot: usize,
    ) -> (u32, u32) {
        let slot = self.vacant_head;
        assert!(slot != NONE, "buffer table full");
        let head = self.chunk_heads[chunk_slot];
        let record = &mut self.records[slot as usize];
        self.vacant_head = record.next;
        record.first_page = first_page;
        record.order = order;
        record.state = RecordState::Live;
        record.owner = owner;
        record.mappings = 0;
        record.next = head;
        record.previous = NONE;
        let generation = record.generation;
        if head != NONE {
            self.records[head as usize].previous = slot;
        }
        self.chunk_heads[chunk_slot] = slot;
        (slot, generation)
    }

    /// The occupied record at `slot` if its generation is still `generation`.
    #[inline]
    pub(crate) fn get(&self, slot: u32, generation: u32) -> Option<&BufferRecord> {
        self.records
            .get(slot as usize)
            .filter(|record| record.state != RecordState::Vacant && record.generation == generation)
    }

    /// The record at `slot`, mutably, if occupied with generation `generation`.
    #[inline]
    pub(crate) fn get_mut(&mut self, slot: u32, generation: u32) -> Option<&mut BufferRecord> {
        self.records
            .get_mut(slot as usize)
            .filter(|record| record.state != RecordState::Vacant && record.generation == generation)
    }

    /// Vacates the record at `slot`, whose first page lies in `chunk_slot`, and bumps its
    /// generation so every handle and token naming it becomes stale.
    #[inline]
    pub(crate) fn remove(&mut self, slot: u32, chunk_slot: usize) {
        let (next, previous) = {
            let record = &self.records[slot as usize];
            (record.next, record.previous)
        };
        if previous == NONE {
            self.chunk_heads[chunk_slot] = next;
        } else {
            self.records[previous as usize].next = next;
        }
        if next != NONE {
            self.records[next as usize].previous = previous;
        }
        let record = &mut self.records[slot as usize];
        record.state = RecordState::Vacant;
        record.generation = record.generation.wrapping_add(1);
        record.mappings = 0;
        record.previous = NONE;
        record.next = self.vacant_head;
        self.vacant_head = slot;
    }

    /// The slot of the occupied record whose first page is `first_page`, found in the list
    /// of `chunk_slot` (at most 64 records).
    pub(crate) fn find_start(&self, chunk_slot: usize, first_page: u64) -> Option<u32> {
        let mut slot = *self.chunk_heads.get(chunk_slot)?;
        while slot != NONE {
            let record = &self.records[slot as usize];
            if u64::from(record.first_page) == first_page {
                return Some(slot);
            }
            slot = record.next;
        }
        None
    }

    /// The generation of the record at `slot`.
    pub(crate) fn generation_of(&self, slot: u32) -> u32 {
        self.records[slot as usize].generation
    }

    /// Every occupied record with its slot, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &BufferRecord)> {
        self.iter_from(0)
    }

    /// Every occupied record at `from` or later, with its slot, in slot order.
    pub(crate) fn iter_from(&self, from: u32) -> impl Iterator<Item = (u32, &BufferRecord)> {
        self.records
            .iter()
            .enumerate()
            .skip(from as usize)
            .filter(|(_, record)| record.state != RecordState::Vacant)
            .map(|(slot, record)| (slot as u32, record))
    }

    /// Checks the free list and the chunk lists against the records.
    pub(crate) fn check(&self, chunk_of: impl Fn(u64) -> usize) -> Result<(), &'static str> {
        let mut vacant = 0;
        let mut slot = self.vacant_head;
        while slot != NONE {
            if self.records[slot as usize].state != RecordState::Vacant
                || vacant > self.records.len()
            {
                return Err("the vacant list holds an occupied record or loops");
            }
            vacant += 1;
            slot = self.records[slot as usize].next;
        }
        let occupied = self.iter().count();
        if vacant + occupied != self.records.len() {
            return Err("a vacant record is missing from the vacant list");
        }
        let mut listed = 0;
        for (chunk, &head) in self.chunk_heads.iter().enumerate() {
            let mut previous = NONE;
            let mut slot = head;
            while slot != NONE {
                let record = &self.records[slot as usize];
                if record.state == RecordState::Vacant
                    || record.previous != previous
                    || chunk_of(u64::from(record.first_page)) != chunk
                {
                    return Err("a chunk list is inconsistent");
                }
                listed += 1;
                previous = slot;
                slot = record.next;
            }
        }
        if listed != occupied {
            return Err("an occupied record is missing from its chunk list");
        }
        Ok(())
    }
}
