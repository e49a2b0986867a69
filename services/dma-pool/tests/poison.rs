//! Debug mode's bookkeeping against a model: freed pages are poisoned through the drain,
//! exactly the poisoned pages are checked when next allocated, a write after free into them
//! is reported by that allocation and no other, and every buffer comes back zeroed.

mod common;

use common::{registry_with_pool, ALICE, BOB, REGION_BASE};
use dma_pool::{
    first_unpoisoned, BufferHandle, OwnerId, PoolRegistry, Zeroer, PAGE_SIZE, PENDING_CAPACITY,
    POISON,
};
use proptest::prelude::*;
use std::collections::BTreeSet;

const PAGES: u64 = 64;
const WORDS_PER_PAGE: usize = (PAGE_SIZE / 8) as usize;

/// The pool's memory, word by word, and what the checks found.
struct Memory {
    words: Vec<u64>,
    /// (physical address of the word that differed) per failed check.
    reports: Vec<u64>,
    /// Pages handed to `check_and_zero`.
    checked: BTreeSet<u64>,
}

impl Memory {
    fn new() -> Self {
        Memory {
            // Garbage, as memory is before anyone wrote it: never mistaken for poison.
            words: vec![0x1234_5678; PAGES as usize * WORDS_PER_PAGE],
            reports: Vec::new(),
            checked: BTreeSet::new(),
        }
    }

    fn range(&mut self, phys: u64, len: u64) -> &mut [u64] {
        let first = ((phys - REGION_BASE) / 8) as usize;
        &mut self.words[first..first + (len / 8) as usize]
    }

    fn poison(&mut self, phys: u64, len: u64) {
        self.range(phys, len).fill(POISON);
    }
}

impl Zeroer for Memory {
    fn zero(&mut self, phys: u64, len: u64) {
        self.range(phys, len).fill(0);
    }

    fn check_and_zero(&mut self, phys: u64, len: u64) {
        for page in 0..len / PAGE_SIZE {
            self.checked.insert((phys - REGION_BASE) / PAGE_SIZE + page);
        }
        if let Some(word) = first_unpoisoned(self.range(phys, len)) {
            self.reports.push(phys + word as u64 * 8);
        }
        self.zero(phys, len);
    }
}

fn drain(registry: &mut PoolRegistry, memory: &mut Memory, owners: &mut Vec<(u64, OwnerId)>) {
    registry.drain_freed(|freed| {
        memory.poison(freed.phys, freed.len);
        owners.push((freed.phys, freed.owner));
    });
}

#[test]
fn a_write_after_free_is_reported_by_the_next_allocation_of_those_pages() {
    let (mut registry, _) = registry_with_pool(PAGES);
    registry.set_poisoning(true);
    let mut memory = Memory::new();
    let mut owners = Vec::new();
    let first = registry
        .alloc("blk0", 8192, None, ALICE, &mut memory)
        .unwrap();
    assert!(memory.checked.is_empty(), "nothing was poisoned yet");
    registry.release(first.handle, ALICE).unwrap();
    drain(&mut registry, &mut memory, &mut owners);
    assert_eq!(owners, [(first.phys, ALICE)]);
    let stats = registry.pool_for_device("blk0").unwrap().poison_stats();
    assert_eq!(stats.unwrap().poisoned_pages, 2);
    // The device writes one word into the second page after the free.
    let culprit = first.phys + PAGE_SIZE + 24;
    memory.range(culprit, 8)[0] = 0xdead;
    let again = registry
        .alloc("blk0", 8192, None, BOB, &mut memory)
        .unwrap();
    assert_eq!(again.phys, first.phys, "the hot block is reused");
    assert_eq!(memory.reports, [culprit]);
    assert!(memory.range(again.phys, 8192).iter().all(|&word| word == 0));
    let stats = registry.pool_for_device("blk0").unwrap().poison_stats();
    assert_eq!(stats.unwrap().poisoned_pages, 0);
    assert_eq!(stats.unwrap().checked_pages, 2);
}

#[test]
fn pages_taken_before_the_drain_are_zeroed_never_poisoned() {
    let (mut registry, _) = registry_with_pool(PAGES);
    registry.set_poisoning(true);
    let mut memory = Memory::new();
    let first = registry
        .alloc("blk0", 4096, None, ALICE, &mut memory)
        .unwrap();
    registry.release(first.handle, ALICE).unwrap();
    let again = registry
        .alloc("blk0", 4096, None, BOB, &mut memory)
        .unwrap();
    assert_eq!(again.phys, first.phys);
    let mut owners = Vec::new();
    drain(&mut registry, &mut memory, &mut owners);
    assert!(
        owners.is_empty(),
        "the pending free was dropped: {owners:?}"
    );
    assert!(memory.range(again.phys, 4096).iter().all(|&word| word == 0));
}

#[test]
fn a_full_pending_list_skips_poisoning_and_reports_nothing() {
    let (mut registry, _) = registry_with_pool(PAGES);
    registry.set_poisoning(true);
    let mut memory = Memory::new();
    let count = PENDING_CAPACITY as u64 / 2 + 8;
    for owner in [ALICE, BOB] {
        for _ in 0..count / 2 {
            registry
                .alloc("blk0", 4096, None, owner, &mut memory)
                .unwrap();
        }
    }
    registry.release_all(ALICE);
    registry.release_all(BOB);
    let stats = registry
        .pool_for_device("blk0")
        .unwrap()
        .poison_stats()
        .unwrap();
    assert_eq!(stats.pending_pages + stats.skipped_pages, count);
    let mut owners = Vec::new();
    drain(&mut registry, &mut memory, &mut owners);
    assert_eq!(owners.len() as u64, stats.pending_pages);
    for _ in 0..count {
        registry
            .alloc("blk0", 4096, None, ALICE, &mut memory)
            .unwrap();
    }
    assert!(memory.reports.is_empty(), "{:?}", memory.reports);
}

#[test]
fn poisoning_off_zeroes_once_and_queues_nothing() {
    let (mut registry, _) = registry_with_pool(PAGES);
    let mut memory = Memory::new();
    let buffer = registry
        .alloc("blk0", 16384, None, ALICE, &mut memory)
        .unwrap();
    registry.release(buffer.handle, ALICE).unwrap();
    registry.drain_freed(|_| panic!("nothing to poison"));
    assert_eq!(
        registry.pool_for_device("blk0").unwrap().poison_stats(),
        None
    );
}

/// One step of the property test.
#[derive(Clone, Debug)]
enum Step {
    Alloc {
        order: u32,
        owner: bool,
    },
    Release {
        index: usize,
    },
    /// Released while mapped; freed at the unmap.
    ReleaseMapped {
        index: usize,
    },
    /// A write after free into pool page `page`, word `word`, if that page is free.
    Scribble {
        page: u64,
        word: usize,
    },
    Drain,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u32..4, any::<bool>()).prop_map(|(order, owner)| Step::Alloc { order, owner }),
        2 => any::<usize>().prop_map(|index| Step::Release { index }),
        1 => any::<usize>().prop_map(|index| Step::ReleaseMapped { index }),
        2 => (0..PAGES, 0..WORDS_PER_PAGE).prop_map(|(page, word)| Step::Scribble { page, word }),
        2 => Just(Step::Drain),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The model: a page is poisoned from the drain after its free until its next
    /// allocation; a scribble on a poisoned page is reported by exactly the allocation that
    /// takes it, at the first differing word of its run; nothing else is ever reported;
    /// every allocation is zero; the stats count the poisoned pages.
    #[test]
    fn poison_reports_exactly_the_writes_after_free(steps in prop::collection::vec(step(), 1..80)) {
        let (mut registry, _) = registry_with_pool(PAGES);
        registry.set_poisoning(true);
        let mut memory = Memory::new();
        let mut live: Vec<(BufferHandle, OwnerId, u64, u64)> = Vec::new();
        // Freed buffers not drained yet, as (first page, pages).
        let mut freed_pending: Vec<(u64, u64)> = Vec::new();
        let mut poisoned: BTreeSet<u64> = BTreeSet::new();
        let mut scribbled: BTreeSet<u64> = BTreeSet::new();
        let mut owners = Vec::new();
        for step in steps {
            match step {
                Step::Alloc { order, owner } => {
                    let owner = if owner { ALICE } else { BOB };
                    let before = memory.reports.len();
                    memory.checked.clear();
                    let Ok(buffer) = registry.alloc("blk0", PAGE_SIZE << order, None, owner, &mut memory) else {
                        continue;
                    };
                    let first = (buffer.phys - REGION_BASE) / PAGE_SIZE;
                    let pages: BTreeSet<u64> = (first..first + (1 << order)).collect();
                    let expected_checked: BTreeSet<u64> = pages.intersection(&poisoned).copied().collect();
                    prop_assert_eq!(&memory.checked, &expected_checked);
                    let hit = pages.iter().any(|page| scribbled.contains(page) && poisoned.contains(page));
                    if hit {
                        prop_assert!(memory.reports.len() > before, "a write after free went unreported");
                        for &report in &memory.reports[before..] {
                            let page = (report - REGION_BASE) / PAGE_SIZE;
                            prop_assert!(scribbled.contains(&page) && poisoned.contains(&page));
                        }
                    } else {
                        prop_assert_eq!(memory.reports.len(), before, "a false report");
                    }
                    prop_assert!(memory.range(buffer.phys, buffer.size_bytes).iter().all(|&word| word == 0));
                    for page in &pages {
                        poisoned.remove(page);
                        scribbled.remove(page);
                    }
                    // A pending buffer the allocation touches is dropped whole.
                    freed_pending.retain(|&(start, count)| start + count <= first || first + (1 << order) <= start);
                    live.push((buffer.handle, owner, first, 1 << order));
                }
                Step::Release { index } | Step::ReleaseMapped { index } => {
                    if live.is_empty() {
                        continue;
                    }
                    let (handle, owner, first, pages) = live.swap_remove(index % live.len());
                    if let Step::ReleaseMapped { .. } = step {
                        let token = registry.map_added(handle, owner).unwrap();
                        registry.release(handle, owner).unwrap();
                        registry.map_removed(token).unwrap();
                    } else {
                        registry.release(handle, owner).unwrap();
                    }
                    freed_pending.push((first, pages));
                }
                Step::Scribble { page, word } => {
                    let busy = live.iter().any(|&(_, _, first, pages)| (first..first + pages).contains(&page));
                    if busy {
                        continue;
                    }
                    let phys = REGION_BASE + page * PAGE_SIZE + word as u64 * 8;
                    memory.range(phys, 8)[0] = 0x5c21_661e;
                    scribbled.insert(page);
                }
                Step::Drain => {
                    owners.clear();
                    drain(&mut registry, &mut memory, &mut owners);
                    for page in std::mem::take(&mut freed_pending).into_iter().flat_map(|(start, count)| start..start + count) {
                        poisoned.insert(page);
                        // Poisoning overwrote any earlier scribble.
                        scribbled.remove(&page);
                    }
                }
            }
            let stats = registry.pool_for_device("blk0").unwrap().poison_stats().unwrap();
            prop_assert_eq!(stats.poisoned_pages, poisoned.len() as u64);
            prop_assert_eq!(stats.pending_pages, freed_pending.iter().map(|&(_, count)| count).sum::<u64>());
            registry.check_invariants().map_err(TestCaseError::fail)?;
        }
    }
}
