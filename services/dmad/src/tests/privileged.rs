//! Requests that need the `declare-pools` right: retiring and declaring pools.

use super::fixture::*;
use dma_api::DmaError;

#[test]
fn init_retires_and_redeclares_a_pool() {
    let mut fixture = Fixture::new();
    let done = fixture.open(INIT, "blk0/release-pool").unwrap();
    fixture.close(INIT, done).unwrap();
    assert_eq!(fixture.server.registry().pools().count(), 0);
    // Declared again, smaller, with another device offset, inside the region dmad mapped.
    let declare = "declare?name=small&device=blk0&phys=0x80010000&size=0x10000&device-base=0x10000";
    let done = fixture.open(INIT, declare).unwrap();
    fixture.close(INIT, done).unwrap();
    let (handle, info) = fixture.alloc(BLK, "blk0/alloc?size=0x4000").unwrap();
    assert_eq!(info.device_address, 0x10000);
    // Its dmad address follows the physical address: 64 KiB into the region.
    assert_eq!(fixture.map(BLK, handle, 0, 0x4000), Ok(MAPPING + 0x10000));
    assert_eq!(
        fixture.memory.zeroed.last(),
        Some(&(MAPPING + 0x10000, 0x4000))
    );
    fixture.unmap(BLK, handle, 0, 0x4000).unwrap();
    fixture.close(BLK, handle).unwrap();
}

#[test]
fn bad_declarations_are_einval_and_change_nothing() {
    let mut fixture = Fixture::new();
    let before = fixture.fingerprint();
    for declare in [
        // Overlaps blk0's pool.
        "declare?name=p&device=d&phys=0x80000000&size=0x1000",
        // blk0 already has a pool.
        "declare?name=p&device=blk0&phys=0x90000000&size=0x1000",
        // Outside every region.
        "declare?name=p&device=d&phys=0x90000000&size=0x1000",
        // Misaligned.
        "declare?name=p&device=d&phys=0x80000800&size=0x1000",
        "declare?name=p&device=d&phys=0x80000000",
    ] {
        assert_eq!(
            fixture.open(INIT, declare),
            errno(DmaError::Invalid),
            "{declare}"
        );
    }
    assert_eq!(fixture.fingerprint(), before);
}

#[test]
fn declaring_needs_the_right_not_the_name() {
    let mut fixture = Fixture::new();
    let before = fixture.fingerprint();
    // Rights from a section called `init`, without the right: refused.
    assert_eq!(
        fixture.open(IMPOSTOR, "blk0/release-pool"),
        Err(DmaError::NotGranted.errno())
    );
    let declare = "declare?name=p&device=d&phys=0x80010000&size=0x1000";
    assert_eq!(
        fixture.open(IMPOSTOR, declare),
        Err(DmaError::NotGranted.errno())
    );
    assert_eq!(fixture.fingerprint(), before);
    // Another section holding the right: allowed.
    let done = fixture.open(DECLARER, "blk0/release-pool").unwrap();
    fixture.close(DECLARER, done).unwrap();
    assert_eq!(fixture.server.registry().pools().count(), 0);
}
