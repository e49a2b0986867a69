//! Every errno of the `dma:` scheme from a request that should cause it, and no pool
//! changed by any refused request.

use super::fixture::*;
use dma_api::DmaError::*;
use syscall::schemev2::Opcode;

/// Runs `request` expecting `expected`, and checks the pools and owners did not change.
fn refused(
    fixture: &mut Fixture,
    expected: dma_api::DmaError,
    request: impl FnOnce(&mut Fixture) -> Result<u64, i32>,
) {
    let before = fixture.fingerprint();
    assert_eq!(request(fixture), errno(expected));
    assert_eq!(
        fixture.fingerprint(),
        before,
        "a refused request changed a pool"
    );
}

#[test]
fn unknown_devices_and_paths_are_enoent() {
    let mut fixture = Fixture::new();
    for path in [
        "nosuch/alloc?size=4096",
        "nosuch/stats",
        "blk0/free",
        "blk0",
        "nosuch/release-pool",
    ] {
        let caller = if path.ends_with("release-pool") {
            INIT
        } else {
            BLK
        };
        refused(&mut fixture, UnknownDevice, |fixture| {
            fixture.open(caller, path)
        });
    }
}

#[test]
fn malformed_requests_are_einval() {
    let mut fixture = Fixture::new();
    for path in [
        "blk0/alloc",
        "blk0/alloc?size=0",
        "blk0/alloc?size=4096&align=0x3000",
        "blk0/alloc?size=18446744073709551616",
        "blk0/alloc?size=0xffffffffffffffff",
        "blk0/alloc?size=0x200000",
        "blk0/alloc?size=4096&size=4096",
        "blk0/stats?all",
    ] {
        refused(&mut fixture, Invalid, |fixture| fixture.open(GREEDY, path));
    }
    refused(&mut fixture, Invalid, |fixture| {
        fixture.open_bytes(BLK, b"blk0/\xff")
    });
    let (handle, _) = fixture.alloc(BLK, "blk0/alloc?size=8192").unwrap();
    for (offset, size) in [
        (0, 0),
        (1, 4096),
        (0, 4095),
        (4096, 8192),
        (8192, 4096),
        (4096, u64::MAX - 4095),
    ] {
        refused(&mut fixture, Invalid, |fixture| {
            fixture.map(BLK, handle, offset, size)
        });
    }
    refused(&mut fixture, Invalid, |fixture| {
        fixture
            .request(Opcode::Write, BLK, [handle, 1, 0, 0, 0, 0], b"x")
            .result
    });
}

#[test]
fn an_exhausted_pool_is_enomem() {
    let mut fixture = Fixture::new();
    let (_, info) = fixture.alloc(GREEDY, "blk0/alloc?size=0x80000").unwrap();
    assert_eq!(info.size, 0x80000);
    fixture.alloc(GREEDY, "blk0/alloc?size=0x40000").unwrap();
    fixture.alloc(GREEDY, "blk0/alloc?size=0x20000").unwrap();
    // 32 pages left, but not 64.
    refused(&mut fixture, OutOfMemory, |fixture| {
        fixture.open(GREEDY, "blk0/alloc?size=0x40000")
    });
    assert_eq!(fixture.stats().failed_allocations, 1);
}

#[test]
fn ungranted_processes_are_eacces() {
    let mut fixture = Fixture::new();
    for caller in [OTHER, NAMELESS, INIT] {
        refused(&mut fixture, NotGranted, |fixture| {
            fixture.open(caller, "blk0/alloc?size=4096")
        });
    }
    for caller in [BLK, OTHER, NAMELESS] {
        refused(&mut fixture, NotGranted, |fixture| {
            fixture.open(caller, "declare?name=p&device=d&phys=0x80000000&size=4096")
        });
        refused(&mut fixture, NotGranted, |fixture| {
            fixture.open(caller, "blk0/release-pool")
        });
    }
}

#[test]
fn over_quota_is_edquot() {
    let mut fixture = Fixture::new();
    let (first, _) = fixture.alloc(BLK, "blk0/alloc?size=0x4000").unwrap();
    fixture.alloc(BLK, "blk0/alloc?size=0x4000").unwrap();
    refused(&mut fixture, OverQuota, |fixture| {
        fixture.open(BLK, "blk0/alloc?size=1")
    });
    // Another process is not limited by BLK's quota, and closing makes room again.
    fixture.alloc(GREEDY, "blk0/alloc?size=0x8000").unwrap();
    fixture.close(BLK, first).unwrap();
    fixture.alloc(BLK, "blk0/alloc?size=1").unwrap();
}

#[test]
fn handles_of_others_and_non_buffers_are_ebadf() {
    let mut fixture = Fixture::new();
    let (buffer, _) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    let root = fixture.open(OTHER, "").unwrap();
    refused(&mut fixture, BadHandle, |fixture| {
        fixture.read(GREEDY, buffer, 64).map(|_| 0)
    });
    refused(&mut fixture, BadHandle, |fixture| {
        fixture.map(GREEDY, buffer, 0, 4096)
    });
    refused(&mut fixture, BadHandle, |fixture| {
        fixture.close(GREEDY, buffer)
    });
    refused(&mut fixture, BadHandle, |fixture| {
        fixture.unmap(BLK, buffer, 0, 4096)
    });
    refused(&mut fixture, BadHandle, |fixture| {
        fixture.map(OTHER, root, 0, 4096)
    });
    refused(&mut fixture, BadHandle, |fixture| {
        fixture.read(BLK, 999, 64).map(|_| 0)
    });
    refused(&mut fixture, BadHandle, |fixture| {
        fixture
            .request(Opcode::Write, GREEDY, [buffer, 1, 0, 0, 0, 0], b"x")
            .result
    });
    // The owner still has it.
    assert_eq!(fixture.stats().live_buffers, 1);
    fixture.close(BLK, buffer).unwrap();
    refused(&mut fixture, BadHandle, |fixture| {
        fixture.close(BLK, buffer)
    });
}

#[test]
fn retiring_a_pool_in_use_is_ebusy() {
    let mut fixture = Fixture::new();
    let (buffer, _) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    refused(&mut fixture, Busy, |fixture| {
        fixture.open(INIT, "blk0/release-pool")
    });
    fixture.map(BLK, buffer, 0, 4096).unwrap();
    fixture.close(BLK, buffer).unwrap();
    // Released but still mapped: still busy.
    refused(&mut fixture, Busy, |fixture| {
        fixture.open(INIT, "blk0/release-pool")
    });
    fixture.unmap(BLK, buffer, 0, 4096).unwrap();
    let done = fixture.open(INIT, "blk0/release-pool").unwrap();
    assert_eq!(fixture.read(INIT, done, 64), Ok(alloc::vec![]));
    fixture.close(INIT, done).unwrap();
    assert_eq!(
        fixture.open(BLK, "blk0/alloc?size=4096"),
        errno(UnknownDevice)
    );
}

#[test]
fn unsupported_requests_are_enosys() {
    let mut fixture = Fixture::new();
    let reply = fixture.request(Opcode::Fstat, BLK, [1, 0, 0, 0, 0, 0], &[]);
    assert_eq!(reply.result, Err(syscall::error::ENOSYS));
}

#[test]
fn address_constraints_are_honoured_or_refused() {
    let mut fixture = Fixture::new();
    // The pool's device addresses are 0xc000_0000..0xc010_0000: a 32-bit mask covers it.
    let (_, info) = fixture
        .alloc(
            BLK,
            "blk0/alloc?size=0x4000&mask=0xffffffff&boundary=0x10000",
        )
        .unwrap();
    assert_eq!(info.size, 0x4000);
    let last = info.device_address + info.size - 1;
    assert!(last <= 0xffff_ffff);
    assert_eq!(info.device_address / 0x10000, last / 0x10000);
    // A 31-bit device can never reach this pool; a boundary smaller than the buffer can
    // never be met; malformed masks and boundaries are refused by the parser.
    for path in [
        "blk0/alloc?size=4096&mask=0x7fffffff",
        "blk0/alloc?size=0x2000&boundary=0x1000",
        "blk0/alloc?size=4096&mask=0xc00fffff",
        "blk0/alloc?size=4096&boundary=0x3000",
    ] {
        refused(&mut fixture, Invalid, |fixture| fixture.open(BLK, path));
    }
}
