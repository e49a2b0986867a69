//! Debug mode through the server: a write after free is reported with its last owner and
//! counted in `DEV/stats`, the buffer still comes back zeroed; a client's exit with buffers
//! still held is a leak report, an ordinary close is not.

use super::fixture::*;
use dma_pool::{PAGE_SIZE, POISON};
use syscall::schemev2::Opcode;

/// The value of `key` in `blk0`'s stats, as the rest of its line.
fn stat(fixture: &mut Fixture, key: &str) -> String {
    let handle = fixture.open(GREEDY, "blk0/stats").unwrap();
    let text = fixture.read_text(GREEDY, handle, 4096);
    fixture.close(GREEDY, handle).unwrap();
    let prefix = format!("{key} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key} in {text}"))
        .to_string()
}

/// Every `leak` line of `blk0`'s stats.
fn leaks(fixture: &mut Fixture) -> Vec<String> {
    let handle = fixture.open(GREEDY, "blk0/stats").unwrap();
    let text = fixture.read_text(GREEDY, handle, 4096);
    fixture.close(GREEDY, handle).unwrap();
    text.lines()
        .filter(|line| line.starts_with("leak "))
        .map(String::from)
        .collect()
}

fn offset_of(device_address: u64) -> usize {
    (device_address - DEVICE_BASE) as usize
}

#[test]
fn a_write_after_free_is_reported_with_its_last_owner_and_the_buffer_is_zeroed() {
    let mut fixture = Fixture::new();
    fixture.server.set_debug(true);
    assert_eq!(stat(&mut fixture, "poison"), "on");
    let (handle, info) = fixture.alloc(BLK, "blk0/alloc?size=8192").unwrap();
    fixture.close(BLK, handle).unwrap();
    let start = offset_of(info.device_address);
    // Freed pages hold the poison.
    assert!(fixture.memory.bytes[start..start + 8192]
        .chunks_exact(8)
        .all(|word| word == POISON.to_le_bytes()));
    assert_eq!(stat(&mut fixture, "poisoned-pages"), "2");
    // A clean reuse reports nothing.
    let (handle, again) = fixture.alloc(BLK, "blk0/alloc?size=8192").unwrap();
    assert_eq!(again.device_address, info.device_address);
    assert_eq!(stat(&mut fixture, "poison-violations"), "0");
    fixture.close(BLK, handle).unwrap();
    // The device writes into the second page after the free.
    let culprit = start + PAGE_SIZE as usize + 40;
    fixture.memory.bytes[culprit] = 0x77;
    let (_, again) = fixture.alloc(GREEDY, "blk0/alloc?size=8192").unwrap();
    assert_eq!(again.device_address, info.device_address);
    assert_eq!(stat(&mut fixture, "poison-violations"), "1");
    assert_eq!(
        stat(&mut fixture, "poison-last-violation"),
        format!("{BLK} blk {:#x}", info.device_address + PAGE_SIZE + 40)
    );
    assert!(fixture.memory.bytes[start..start + 8192]
        .iter()
        .all(|&byte| byte == 0));
    assert_eq!(stat(&mut fixture, "poison-checked-pages"), "4");
}

#[test]
fn debug_off_poisons_nothing() {
    let mut fixture = Fixture::new();
    let (handle, info) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    fixture.close(BLK, handle).unwrap();
    let start = offset_of(info.device_address);
    assert!(fixture.memory.bytes[start..start + 4096]
        .iter()
        .all(|&byte| byte == 0));
    assert_eq!(stat(&mut fixture, "poison"), "off");
    assert_eq!(stat(&mut fixture, "poisoned-pages"), "0");
}

#[test]
fn buffers_closed_at_exit_are_a_leak_report_ordinary_closes_are_not() {
    let mut fixture = Fixture::new();
    fixture.server.set_debug(true);
    let (kept, _) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    let (other, _) = fixture.alloc(BLK, "blk0/alloc?size=16384").unwrap();
    let (freed, _) = fixture.alloc(BLK, "blk0/alloc?size=8192").unwrap();
    let text = fixture.open(BLK, "blk0/stats").unwrap();
    fixture.close(BLK, freed).unwrap();
    assert_eq!(stat(&mut fixture, "leak-reports"), "0");
    // The process exits: the kernel closes what it left open.
    let at_exit = kernel_core::abi::CLOSE_AT_EXIT;
    for handle in [kept, text, other] {
        fixture.request(Opcode::Close, BLK, [handle, at_exit, 0, 0, 0, 0], &[]);
    }
    assert_eq!(stat(&mut fixture, "leak-reports"), "1");
    assert_eq!(leaks(&mut fixture), [format!("leak {BLK} blk 2 20480")]);
    // A process that closes everything itself leaks nothing.
    let (handle, _) = fixture.alloc(GREEDY, "blk0/alloc?size=4096").unwrap();
    fixture.close(GREEDY, handle).unwrap();
    assert_eq!(stat(&mut fixture, "leak-reports"), "1");
}

#[test]
fn reaping_a_process_reports_its_leaks() {
    let mut fixture = Fixture::new();
    fixture.server.set_debug(true);
    for _ in 0..3 {
        fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    }
    fixture.server.reap(BLK as u32);
    assert_eq!(leaks(&mut fixture), [format!("leak {BLK} blk 3 12288")]);
    // Its pages were freed outside a request: poisoned before the next allocation.
    let (_, info) = fixture.alloc(GREEDY, "blk0/alloc?size=4096").unwrap();
    assert_eq!(stat(&mut fixture, "poison-violations"), "0");
    let start = offset_of(info.device_address);
    assert!(fixture.memory.bytes[start..start + 4096]
        .iter()
        .all(|&byte| byte == 0));
}
