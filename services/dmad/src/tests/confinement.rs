//! Device confinement: each buffer is mapped into its device's IOMMU domain when allocated
//! and unmapped before its pages can return to the pool; a failed unmap quarantines it.

use super::fixture::*;
use crate::Confinement;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

/// What the kernel was asked, in order, and whether unmaps fail.
#[derive(Default)]
struct Log {
    calls: Vec<(String, String, u64, u64)>,
    refuse_unmap: bool,
    refuse_map: bool,
}

struct Recorder(Rc<RefCell<Log>>);

impl Confinement for Recorder {
    fn map(&mut self, device: &str, iova: u64, _physical: u64, size: u64) -> Result<(), i32> {
        let mut log = self.0.borrow_mut();
        log.calls.push(("map".into(), device.into(), iova, size));
        if log.refuse_map {
            Err(12)
        } else {
            Ok(())
        }
    }

    fn unmap(&mut self, device: &str, iova: u64, size: u64) -> Result<(), i32> {
        let mut log = self.0.borrow_mut();
        log.calls.push(("unmap".into(), device.into(), iova, size));
        if log.refuse_unmap {
            Err(5)
        } else {
            Ok(())
        }
    }
}

fn confined() -> (Fixture, Rc<RefCell<Log>>) {
    let mut fixture = Fixture::new();
    let log = Rc::new(RefCell::new(Log::default()));
    fixture
        .server
        .confine_with(alloc::boxed::Box::new(Recorder(log.clone())));
    (fixture, log)
}

#[test]
fn a_buffer_is_mapped_at_its_device_address_and_unmapped_at_close() {
    let (mut fixture, log) = confined();
    let (handle, info) = fixture.alloc(BLK, "blk0/alloc?size=8192").unwrap();
    fixture.close(BLK, handle).unwrap();
    let calls = &log.borrow().calls;
    assert_eq!(
        calls.as_slice(),
        [
            ("map".into(), "blk0".into(), info.device_address, 8192),
            ("unmap".into(), "blk0".into(), info.device_address, 8192),
        ]
    );
    assert_eq!(fixture.stats().free_pages, SIZE / 4096);
}

#[test]
fn an_exit_unmaps_every_buffer_before_release() {
    let (mut fixture, log) = confined();
    fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    fixture.server.reap(BLK as u32);
    let unmaps = log
        .borrow()
        .calls
        .iter()
        .filter(|call| call.0 == "unmap")
        .count();
    assert_eq!(unmaps, 2);
    assert_eq!(fixture.stats().free_pages, SIZE / 4096);
}

#[test]
fn a_failed_unmap_quarantines_the_buffer() {
    let (mut fixture, log) = confined();
    let (handle, _) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    log.borrow_mut().refuse_unmap = true;
    fixture.close(BLK, handle).unwrap();
    assert_eq!(fixture.stats().free_pages, SIZE / 4096 - 1);
}

#[test]
fn a_refused_map_refuses_the_allocation_and_changes_nothing() {
    let (mut fixture, log) = confined();
    log.borrow_mut().refuse_map = true;
    assert!(fixture.alloc(BLK, "blk0/alloc?size=4096").is_err());
    assert_eq!(fixture.stats().free_pages, SIZE / 4096);
}
