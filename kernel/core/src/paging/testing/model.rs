//! A plain model of a page table (a map from page to leaf) and a checker that replays random
//! operations against both, comparing them after every step.

pub use super::operation::{Kind, Operation};
use super::std::collections::{BTreeMap, BTreeSet};
use super::std::vec::Vec;
use super::{emulated_machine, normalized, EmulatedFrames, EmulatedMemory};
use crate::paging::{
    entry_size, MapError, PageSizes, PageTable, PageTableFormat, LAST_LEVEL, PAGE_SIZE,
};
use crate::PageFlags;

/// The leaf the model says maps a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ModelLeaf {
    virtual_start: u64,
    physical: u64,
    level: usize,
    flags: PageFlags,
}

/// Page → the leaf mapping it.
type Model = BTreeMap<u64, ModelLeaf>;

/// The pages of `[start, start + size)`.
fn pages(start: u64, size: u64) -> impl Iterator<Item = u64> {
    (0..size / PAGE_SIZE).map(move |page| start + page * PAGE_SIZE)
}

/// Applies `operation` to the model, returning what the page table should return.
fn apply_to_model<F: PageTableFormat>(
    model: &mut Model,
    operation: &Operation,
) -> Result<(), MapError> {
    let Operation {
        virtual_start,
        size,
        flags,
        ..
    } = *operation;
    match operation.kind {
        Kind::Map => {
            if pages(virtual_start, size).any(|page| model.contains_key(&page)) {
                return Err(MapError::AlreadyMapped);
            }
            let mut leaves = Vec::new();
            let mut offset = 0;
            while offset < size {
                let (virtual_address, physical) =
                    (virtual_start + offset, operation.physical_start + offset);
                let level = (1..LAST_LEVEL)
                    .find(|&level| {
                        let leaf_size = entry_size(level);
                        operation.page_sizes == PageSizes::Any
                            && virtual_address % leaf_size == 0
                            && physical % leaf_size == 0
                            && size - offset >= leaf_size
                    })
                    .unwrap_or(LAST_LEVEL);
                F::encode_leaf(physical, flags, level)?;
                let flags = normalized::<F>(flags, level).expect("encodable");
                leaves.push(ModelLeaf {
                    virtual_start: virtual_address,
                    physical,
                    level,
                    flags,
                });
                offset += entry_size(level);
            }
            for leaf in leaves {
                for page in pages(leaf.virtual_start, entry_size(leaf.level)) {
                    model.insert(page, leaf);
                }
            }
            Ok(())
        }
        Kind::Unmap | Kind::Protect => {
            let mut leaves = Vec::new();
            for page in pages(virtual_start, size) {
                let leaf = model.get(&page).ok_or(MapError::NotMapped)?;
                let leaf_last = leaf.virtual_start + (entry_size(leaf.level) - 1);
                if leaf.virtual_start < virtual_start || leaf_last > virtual_start + (size - 1) {
                    return Err(MapError::WouldSplitLargePage);
                }
                if leaf.virtual_start == page {
                    leaves.push(*leaf);
                }
            }
            for leaf in &leaves {
                if operation.kind == Kind::Protect {
                    F::encode_leaf(leaf.physical, flags, leaf.level)?;
                }
            }
            for leaf in leaves {
                for page in pages(leaf.virtual_start, entry_size(leaf.level)) {
                    if operation.kind == Kind::Unmap {
                        model.remove(&page);
                    } else {
                        let flags = normalized::<F>(flags, leaf.level).expect("encodable");
                        model.insert(page, ModelLeaf { flags, ..leaf });
                    }
                }
            }
            Ok(())
        }
    }
}

/// The number of tables a tree holding exactly the model's leaves has: the root, plus each
/// distinct table on the path to each leaf.
fn tables_implied(model: &Model) -> usize {
    let tables: BTreeSet<(usize, u64)> = model
        .iter()
        .filter(|(page, leaf)| **page == leaf.virtual_start)
        .map(|(_, leaf)| leaf)
        .flat_map(|leaf| {
            (1..=leaf.level).map(|level| (level, leaf.virtual_start / entry_size(level - 1)))
        })
        .collect();
    1 + tables.len()
}

/// Replays `operations` on a fresh page table in format `F` and on the model, checking after
/// each step that both returned the same, that a refused step changed no bit and no frame,
/// that every leaf and every translation agrees, and that no table leaked.
pub fn check_sequence<F: PageTableFormat>(operations: &[Operation]) {
    let (mut memory, mut frames) = emulated_machine();
    let mut table = PageTable::<F>::new(&mut frames).expect("a root");
    let mut model = Model::new();
    for operation in operations {
        let before = memory.snapshot();
        let expected = apply_to_model::<F>(&mut model, operation);
        let actual = apply_to_table(&mut table, &mut memory, &mut frames, operation);
        assert_eq!(actual, expected, "{operation:x?}");
        if actual.is_err() {
            assert_eq!(
                memory.snapshot(),
                before,
                "refused {operation:x?} changed the tables"
            );
        }
        check_agrees(&table, &memory, &frames, &model, operation);
    }
    table.destroy(&memory, &mut frames);
    assert_eq!(frames.live_tables(), 0);
}

/// Applies `operation` to the page table.
fn apply_to_table<F: PageTableFormat>(
    table: &mut PageTable<F>,
    memory: &mut EmulatedMemory,
    frames: &mut EmulatedFrames,
    operation: &Operation,
) -> Result<(), MapError> {
    let Operation {
        virtual_start,
        size,
        physical_start,
        flags,
        page_sizes,
        ..
    } = *operation;
    match operation.kind {
        Kind::Map => table.map(
            memory,
            frames,
            virtual_start,
            physical_start,
            size,
            flags,
            page_sizes,
        ),
        Kind::Unmap => table.unmap(memory, frames, virtual_start, size, |_, _, _| {}),
        Kind::Protect => table.protect(memory, virtual_start, size, flags, |_| {}),
    }
}

/// Checks that the table's leaves, its translations of the operation's pages and its table
/// count all agree with the model.
fn check_agrees<F: PageTableFormat>(
    table: &PageTable<F>,
    memory: &EmulatedMemory,
    frames: &EmulatedFrames,
    model: &Model,
    operation: &Operation,
) {
    let mut leaves = Vec::new();
    table.for_each_leaf(memory, |leaf| {
        leaves.push(ModelLeaf {
            virtual_start: leaf.virtual_start,
            physical: leaf.physical,
            level: leaf.level,
            flags: leaf.flags,
        });
        assert_eq!(leaf.page_size, entry_size(leaf.level));
    });
    let expected: Vec<ModelLeaf> = model
        .iter()
        .filter(|(page, leaf)| **page == leaf.virtual_start)
        .map(|(_, leaf)| *leaf)
        .collect();
    assert_eq!(leaves, expected, "leaves after {operation:x?}");
    // Every leaf was compared above; translating a sample of pages (each end and every 61st
    // page, so every leaf and table boundary moves around between operations) keeps the
    // check fast.
    let last_page = operation.virtual_start + (operation.size - PAGE_SIZE);
    let sample = pages(operation.virtual_start, operation.size).step_by(61);
    for page in sample.chain([last_page]) {
        let probe = page + 0x123;
        let translation = table.translate(memory, probe);
        match model.get(&page) {
            None => assert_eq!(translation, None, "{probe:#x}"),
            Some(leaf) => {
                let translation = translation.expect("mapped");
                assert_eq!(
                    translation.physical,
                    leaf.physical + (probe - leaf.virtual_start)
                );
                assert_eq!(translation.flags, leaf.flags);
                assert_eq!(translation.level, leaf.level);
                assert_eq!(translation.page_size, entry_size(leaf.level));
            }
        }
    }
    assert_eq!(table.count_tables(memory), tables_implied(model));
    assert_eq!(
        frames.live_tables(),
        tables_implied(model),
        "tables leaked after {operation:x?}"
    );
}
