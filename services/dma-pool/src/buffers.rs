//! The buffer table: a fixed-capacity slab of buffer records with generations, plus
//! per-chunk lists that find the buffer starting at a given page.
//!
//! Records are allocated once, when the pool is declared; vacant records form a free list,
//! so inserting and removing never allocate. Every occupied record is also linked into the
//! list of the 64-page chunk holding its first page. A chunk has at most 64 buffer starts, so
//! finding "the live buffer starting at this page" walks at most 64 records (plus at most one
//! parked record per order, below).
//!
//! # Parked records
//!
//! A driver frees and allocates buffers of the same size over and over, and the free space's
//! hot cache hands the same pages back each time. So that the buffer table does not unlink a
//! record from its chunk list and the vacant list only to link a fresh one at the same page
//! a moment later, a freed record whose pages went into the hot cache is *parked* instead:
//! its generation is bumped (every handle and token naming it is stale at once, as for a
//! vacated record), it names no buffer, but it stays linked in its chunk list, and its slot
//! is the hot block's tag in the free space. The allocation that takes that hot block gets
//! the tag back and revives the record as it is; a flush of the hot cache reports the tag
//! and the record is vacated properly. When no vacant record is left, the pool untags a hot
//! block and vacates its record, so parking never costs capacity. Lookups
//! ([`get`](BufferTable::get), [`find_start`](BufferTable::find_start),
//! [`iter`](BufferTable::iter)) see parked records as vacant.

use alloc::vec;
use alloc::vec::Vec;

use crate::space::words::CHUNK_SHIFT;
use crate::OwnerId;

/// Marks the end of a list.
const NONE: u32 = u32::MAX;

/// What a record holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecordState {
    /// Nothing; on the free list.
    Vacant,
    /// Nothing, but still linked in its chunk list for reuse at the same page (see the
    /// module documentation).
    Parked,
    /// A buffer its owner holds.
    Live,
    /// A buffer its owner released that is still mapped.
    Released,
    /// A released buffer its device may still reach: its pages stay out of the free space
    /// until [`Pool::release_quarantined`](crate::Pool::release_quarantined).
    Quarantined,
}

/// One buffer: 26 bytes of fields, aligned to 32 so that a slot's record is found with a
/// shift and never straddles a cache line.
#[derive(Clone, Copy, Debug)]
#[repr(align(32))]
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

    /// Whether it describes a buffer (live, released or quarantined).
    #[inline]
    fn holds_buffer(&self) -> bool {
        !matches!(self.state, RecordState::Vacant | RecordState::Parked)
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
    /// The pool's first page's offset in its chunk: page `p` is in chunk slot
    /// `(chunk_offset + p) >> 6`.
    chunk_offset: u64,
}

impl BufferTable {
    /// A table of `capacity` vacant records for a pool spanning `chunk_slots` chunks whose
    /// first page is page `chunk_offset` of its chunk.
    pub(crate) fn new(capacity: u32, chunk_slots: usize, chunk_offset: u64) -> Self {
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
            chunk_offset,
        }
    }

    /// Whether no record is vacant (parked ones may be left).
    #[inline]
    pub(crate) fn no_vacant(&self) -> bool {
        self.vacant_head == NONE
    }

    /// The chunk slot holding pool page `page`.
    #[inline]
    fn chunk_of(&self, page: u32) -> usize {
        ((self.chunk_offset + u64::from(page)) >> CHUNK_SHIFT) as usize
    }

    /// Bytes the records take.
    pub(crate) fn record_bytes(&self) -> usize {
        self.records.len() * core::mem::size_of::<BufferRecord>()
    }

    /// Bytes the per-chunk list heads take.
    pub(crate) fn chunk_index_bytes(&self) -> usize {
        self.chunk_heads.len() * core::mem::size_of::<u32>()
    }

    /// Records a live buffer in a vacant record, linked into its chunk's list; returns its
    /// slot and generation.
    ///
    /// # Panics
    ///
    /// Panics if no record is vacant; callers check [`no_vacant`](Self::no_vacant) first
    /// (and unpark a record if needed).
    #[inline]
    pub(crate) fn insert(&mut self, first_page: u32, order: u8, owner: OwnerId) -> (u32, u32) {
        let slot = self.vacant_head;
        assert!(slot != NONE, "buffer table full");
        let chunk_slot = self.chunk_of(first_page);
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

    /// Makes the parked record `slot`, whose pages (as recorded) were just allocated again,
    /// `owner`'s live buffer; returns its generation and the owner it was parked with (still
    /// charged for it, see the module documentation).
    #[inline(always)]
    pub(crate) fn revive(&mut self, slot: u32, owner: OwnerId) -> (u32, OwnerId) {
        let record = &mut self.records[slot as usize];
        debug_assert_eq!(record.state, RecordState::Parked);
        record.state = RecordState::Live;
        let parked_with = core::mem::replace(&mut record.owner, owner);
        (record.generation, parked_with)
    }

    /// The occupied record at `slot` if its generation is still `generation`.
    #[inline]
    pub(crate) fn get(&self, slot: u32, generation: u32) -> Option<&BufferRecord> {
        self.records
            .get(slot as usize)
            .filter(|record| record.holds_buffer() && record.generation == generation)
    }

    /// The live record at `slot` if its generation is still `generation`.
    #[inline(always)]
    pub(crate) fn get_live(&self, slot: u32, generation: u32) -> Option<&BufferRecord> {
        self.records
            .get(slot as usize)
            .filter(|record| record.state == RecordState::Live && record.generation == generation)
    }

    /// The live record at `slot`, mutably, if its generation is still `generation`.
    #[inline(always)]
    pub(crate) fn get_live_mut(&mut self, slot: u32, generation: u32) -> Option<&mut BufferRecord> {
        self.records
            .get_mut(slot as usize)
            .filter(|record| record.state == RecordState::Live && record.generation == generation)
    }

    /// The record at `slot`, mutably, if occupied with generation `generation`.
    #[inline]
    pub(crate) fn get_mut(&mut self, slot: u32, generation: u32) -> Option<&mut BufferRecord> {
        self.records
            .get_mut(slot as usize)
            .filter(|record| record.holds_buffer() && record.generation == generation)
    }

    /// Frees the record at `slot` and bumps its generation, so every handle and token
    /// naming it becomes stale. `parked`: its pages went into the free space's hot cache
    /// tagged with `slot`, so it stays linked for the allocation that takes them; else it is
    /// vacated.
    #[inline(always)]
    pub(crate) fn remove(&mut self, slot: u32, parked: bool) {
        let record = &mut self.records[slot as usize];
        record.generation = record.generation.wrapping_add(1);
        record.mappings = 0;
        if parked {
            record.state = RecordState::Parked;
        } else {
            self.vacate(slot);
        }
    }

    /// Vacates the parked record `slot` (its hot block was flushed or untagged); returns
    /// the owner it was parked with and its pages, a charge the caller takes off.
    pub(crate) fn unpark(&mut self, slot: u32) -> (OwnerId, u64) {
        let record = &self.records[slot as usize];
        debug_assert_eq!(record.state, RecordState::Parked);
        let charge = (record.owner, record.pages());
        self.vacate(slot);
        charge
    }

    /// The owner and pages of the parked record `slot`.
    pub(crate) fn parked_charge(&self, slot: u32) -> (OwnerId, u64) {
        let record = &self.records[slot as usize];
        debug_assert_eq!(record.state, RecordState::Parked);
        (record.owner, record.pages())
    }

    /// Every parked record as `(slot, first page, order)` (for checks).
    pub(crate) fn parked_records(&self) -> impl Iterator<Item = (u32, u32, u8)> + '_ {
        self.records
            .iter()
            .enumerate()
            .filter(|(_, record)| record.state == RecordState::Parked)
            .map(|(slot, record)| (slot as u32, record.first_page, record.order))
    }

    /// Unlinks the record at `slot` from its chunk list and puts it on the vacant list
    /// (its generation already bumped, it holds no mappings).
    pub(crate) fn vacate(&mut self, slot: u32) {
        let (next, previous, first_page) = {
            let record = &self.records[slot as usize];
            (record.next, record.previous, record.first_page)
        };
        if previous == NONE {
            let chunk_slot = self.chunk_of(first_page);
            self.chunk_heads[chunk_slot] = next;
        } else {
            self.records[previous as usize].next = next;
        }
        if next != NONE {
            self.records[next as usize].previous = previous;
        }
        let record = &mut self.records[slot as usize];
        record.state = RecordState::Vacant;
        record.previous = NONE;
        record.next = self.vacant_head;
        self.vacant_head = slot;
    }

    /// The slot of the occupied record whose first page is `first_page`, found in its
    /// chunk's list (at most 64 buffers and one parked record per order).
    pub(crate) fn find_start(&self, first_page: u32) -> Option<u32> {
        let mut slot = *self.chunk_heads.get(self.chunk_of(first_page))?;
        while slot != NONE {
            let record = &self.records[slot as usize];
            if record.first_page == first_page && record.holds_buffer() {
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
            .filter(|(_, record)| record.holds_buffer())
            .map(|(slot, record)| (slot as u32, record))
    }

    /// Checks the free list, the parked records and the chunk lists against the records,
    /// and each listed record's chunk against `chunk_of` (the free space's numbering).
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
        let parked = self.parked_records().count();
        let occupied = self.iter().count();
        if vacant + parked + occupied != self.records.len() {
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
                    || self.chunk_of(record.first_page) != chunk
                    || listed > self.records.len()
                {
                    return Err("a chunk list is inconsistent");
                }
                listed += 1;
                previous = slot;
                slot = record.next;
            }
        }
        if listed != occupied + parked {
            return Err("an occupied record is missing from its chunk list");
        }
        Ok(())
    }
}
