//! Every bounded table filled, then one more request of each kind: the documented errno and
//! nothing changed (dmad's own tables and every pool); and a client mapping the kernel could
//! not complete leaves no count behind.

use super::fixture::*;
use crate::Limits;
use alloc::string::String;
use dma_api::DmaError::{self, *};
use dma_pool::PAGE_SIZE;

/// dmad's tables and the pools, to compare before and after.
fn state(fixture: &Fixture) -> (String, Fingerprint) {
    (fixture.server.snapshot(), fixture.fingerprint())
}

/// Runs `request` expecting `expected`, and checks it changed nothing at all.
fn refused(
    fixture: &mut Fixture,
    expected: DmaError,
    request: impl FnOnce(&mut Fixture) -> Result<u64, i32>,
) {
    let before = state(fixture);
    assert_eq!(request(fixture), errno(expected));
    assert_eq!(
        state(fixture),
        before,
        "a refused request changed something"
    );
}

/// Every kind of open: a text table, a device's stats, an allocation.
const OPENS: [&str; 3] = ["", "blk0/stats", "blk0/alloc?size=4096"];

#[test]
fn one_handle_past_a_processes_limit_is_emfile() {
    let mut fixture = Fixture::new();
    let limit = Limits::DEFAULT.handles_per_client;
    let (buffer, _) = fixture.alloc(GREEDY, "blk0/alloc?size=4096").unwrap();
    let mut texts = alloc::vec::Vec::new();
    for _ in 1..limit {
        texts.push(fixture.open(GREEDY, "").unwrap());
    }
    for path in OPENS {
        refused(&mut fixture, TooManyHandles, |fixture| {
            fixture.open(GREEDY, path)
        });
    }
    // What does not open a handle still works, and other processes are not affected.
    assert!(fixture.map(GREEDY, buffer, 0, PAGE_SIZE).is_ok());
    fixture.unmap(GREEDY, buffer, 0, PAGE_SIZE).unwrap();
    assert!(fixture.read(GREEDY, buffer, 64).is_ok());
    assert!(fixture.open(BLK, "blk0/alloc?size=4096").is_ok());
    // Closing one makes room for one.
    fixture.close(GREEDY, texts.pop().unwrap()).unwrap();
    assert!(fixture.open(GREEDY, "blk0/alloc?size=4096").is_ok());
    refused(&mut fixture, TooManyHandles, |fixture| {
        fixture.open(GREEDY, "")
    });
}

#[test]
fn one_handle_past_the_total_is_enfile() {
    let mut fixture = Fixture::new();
    fixture.server.set_limits(Limits {
        handles_per_client: 4,
        handles: 6,
        ..Limits::DEFAULT
    });
    for _ in 0..4 {
        fixture.open(BLK, "").unwrap();
    }
    let last = fixture.open(OTHER, "").unwrap();
    fixture.open(GREEDY, "").unwrap();
    for caller in [BLK, OTHER, GREEDY, NAMELESS, INIT] {
        let expected = if caller == BLK {
            TooManyHandles
        } else {
            HandleTableFull
        };
        for path in OPENS {
            refused(&mut fixture, expected, |fixture| fixture.open(caller, path));
        }
    }
    fixture.close(OTHER, last).unwrap();
    assert!(fixture.open(NAMELESS, "").is_ok());
}

#[test]
fn one_client_past_the_records_limit_is_eagain() {
    let mut fixture = Fixture::new();
    fixture.server.set_limits(Limits {
        clients: 2,
        ..Limits::DEFAULT
    });
    let other = fixture.open(OTHER, "").unwrap();
    fixture.open(NAMELESS, "").unwrap();
    for caller in [GREEDY, BLK, INIT] {
        for path in OPENS {
            refused(&mut fixture, TooManyClients, |fixture| {
                fixture.open(caller, path)
            });
        }
    }
    // Known clients go on; one leaving makes room.
    assert!(fixture.open(OTHER, "").is_ok());
    let second = fixture.open(OTHER, "blk0/stats").unwrap();
    for handle in [other, second, other + 2] {
        fixture.close(OTHER, handle).unwrap();
    }
    assert_eq!(fixture.server.occupancy(), (1, 1, 0));
    assert!(fixture.alloc(GREEDY, "blk0/alloc?size=4096").is_ok());
}

#[test]
fn one_mapping_past_a_limit_is_enomem() {
    let mut fixture = Fixture::new();
    let (buffer, _) = fixture.alloc(GREEDY, "blk0/alloc?size=0x2000").unwrap();
    for _ in 0..Limits::DEFAULT.mappings_per_client {
        fixture.map(GREEDY, buffer, 0, PAGE_SIZE).unwrap();
    }
    refused(&mut fixture, OutOfMemory, |fixture| {
        fixture.map(GREEDY, buffer, PAGE_SIZE, PAGE_SIZE)
    });
    // A malformed range is still EINVAL (syntax before room), and changes nothing either.
    refused(&mut fixture, Invalid, |fixture| {
        fixture.map(GREEDY, buffer, 0, 0x10_0000)
    });
    fixture.unmap(GREEDY, buffer, 0, PAGE_SIZE).unwrap();
    assert!(fixture.map(GREEDY, buffer, PAGE_SIZE, PAGE_SIZE).is_ok());

    // The total, across processes.
    let mut fixture = Fixture::new();
    fixture.server.set_limits(Limits {
        mappings_per_client: 3,
        mappings: 4,
        ..Limits::DEFAULT
    });
    let (greedy, _) = fixture.alloc(GREEDY, "blk0/alloc?size=4096").unwrap();
    let (blk, _) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    for _ in 0..3 {
        fixture.map(GREEDY, greedy, 0, PAGE_SIZE).unwrap();
    }
    refused(&mut fixture, OutOfMemory, |fixture| {
        fixture.map(GREEDY, greedy, 0, PAGE_SIZE)
    });
    fixture.map(BLK, blk, 0, PAGE_SIZE).unwrap();
    refused(&mut fixture, OutOfMemory, |fixture| {
        fixture.map(BLK, blk, 0, PAGE_SIZE)
    });
    // Opening and closing handles is a different table.
    let table = fixture.open(BLK, "").unwrap();
    fixture.close(BLK, table).unwrap();
    // Closing a mapped buffer keeps its mappings counted until the kernel unmaps them.
    fixture.close(GREEDY, greedy).unwrap();
    refused(&mut fixture, OutOfMemory, |fixture| {
        fixture.map(BLK, blk, 0, PAGE_SIZE)
    });
    fixture.unmap(GREEDY, greedy, 0, PAGE_SIZE).unwrap();
    assert!(fixture.map(BLK, blk, 0, PAGE_SIZE).is_ok());
}

/// The kernel answered by dmad but unable to map into the client (its address space full)
/// sends a `Munmap` of exactly the range at once; dmad's counts fall back to before.
#[test]
fn a_client_mapping_that_fails_part_way_leaves_no_count() {
    let mut fixture = Fixture::new();
    let (buffer, _) = fixture.alloc(BLK, "blk0/alloc?size=0x4000").unwrap();
    // A mapping that stays, overlapping the one that will fail.
    fixture.map(BLK, buffer, 0, 0x4000).unwrap();
    let pools = fixture.fingerprint();
    let held = fixture.server.occupancy();
    let usage = fixture.server.snapshot();
    fixture.map(BLK, buffer, PAGE_SIZE, 0x2000).unwrap();
    fixture.unmap(BLK, buffer, PAGE_SIZE, 0x2000).unwrap();
    assert_eq!(fixture.fingerprint(), pools);
    assert_eq!(fixture.server.occupancy(), held);
    // Only the serial of the next mapping moved on.
    let lines = |text: &str| {
        text.lines()
            .filter(|line| !line.starts_with("next"))
            .map(String::from)
            .collect::<alloc::vec::Vec<_>>()
    };
    assert_eq!(lines(&fixture.server.snapshot()), lines(&usage));

    // The same after the client closed the buffer meanwhile (another thread): with the
    // failed mapping undone and the lasting one unmapped, the pages are back.
    let free_before = fixture.stats().free_pages;
    fixture.map(BLK, buffer, 0, 0x4000).unwrap();
    fixture.close(BLK, buffer).unwrap();
    fixture.unmap(BLK, buffer, 0, 0x4000).unwrap();
    assert_eq!(
        fixture.stats().deferred_buffers,
        1,
        "one mapping still holds it"
    );
    fixture.unmap(BLK, buffer, 0, 0x4000).unwrap();
    assert_eq!(fixture.stats().free_pages, free_before + 4);
    assert_eq!(fixture.server.occupancy(), (0, 0, 0));
}

/// A process's many mappings are found by key, not by scanning: unmapping each of them
/// (the kernel's exact `Munmap`) finds exactly that one.
#[test]
fn many_mappings_unmap_exactly() {
    let mut fixture = Fixture::new();
    let (buffer, _) = fixture.alloc(GREEDY, "blk0/alloc?size=0x40000").unwrap();
    let pages = 0x40000 / PAGE_SIZE;
    for page in 0..pages {
        fixture
            .map(GREEDY, buffer, page * PAGE_SIZE, PAGE_SIZE)
            .unwrap();
        fixture
            .map(GREEDY, buffer, 0, (page + 1) * PAGE_SIZE)
            .unwrap();
    }
    assert_eq!(fixture.server.occupancy().2, 2 * pages as usize);
    for page in (0..pages).rev() {
        fixture
            .unmap(GREEDY, buffer, 0, (page + 1) * PAGE_SIZE)
            .unwrap();
        fixture
            .unmap(GREEDY, buffer, page * PAGE_SIZE, PAGE_SIZE)
            .unwrap();
    }
    assert_eq!(fixture.server.occupancy(), (1, 1, 0));
    assert_eq!(
        fixture.unmap(GREEDY, buffer, 0, PAGE_SIZE),
        errno(BadHandle)
    );
}

/// Times mapping and unmapping many mappings of one process (not run by default:
/// `cargo test -p dmad --release -- --ignored --nocapture unmap_cost`).
#[test]
#[ignore = "a measurement, not a check"]
fn unmap_cost() {
    extern crate std;
    use syscall::schemev2::Opcode;
    for count in [256u64, 2048, 8192] {
        let mut fixture = Fixture::new();
        fixture.server.set_limits(Limits {
            mappings_per_client: usize::MAX,
            mappings: usize::MAX,
            ..Limits::DEFAULT
        });
        let (buffer, _) = fixture.alloc(GREEDY, "blk0/alloc?size=0x40000").unwrap();
        let range = |index: u64| ((index % 60) * PAGE_SIZE, (1 + index % 3) * PAGE_SIZE);
        let send = |fixture: &mut Fixture, opcode: Opcode, index: u64| {
            let (offset, size) = range(index);
            let sqe = syscall::schemev2::Sqe {
                opcode: opcode as u8,
                caller: GREEDY,
                args: [buffer, offset, size, 3, 0, 0],
                ..Default::default()
            };
            let request = crate::Request::parse(&sqe).unwrap();
            assert!(fixture
                .server
                .handle(request, &mut fixture.memory)
                .result
                .is_ok());
        };
        let start = std::time::Instant::now();
        for index in 0..count {
            send(&mut fixture, Opcode::MmapPrep, index);
        }
        let mapped = start.elapsed();
        let start = std::time::Instant::now();
        for index in (0..count).rev() {
            send(&mut fixture, Opcode::Munmap, index);
        }
        let unmapped = start.elapsed();
        std::println!(
            "{count} mappings: map {:.0} ns each, unmap {:.0} ns each",
            mapped.as_nanos() as f64 / count as f64,
            unmapped.as_nanos() as f64 / count as f64
        );
    }
}
