//! Quiesce before reuse: a buffer released while its device's last quiesce is unconfirmed is
//! quarantined — counted, never handed out — until the kernel confirms a later quiesce.

use super::fixture::*;
use crate::DeviceState;

fn set(fixture: &Fixture, holder: Option<u32>, generation: u64, confirmed: u64) {
    fixture.devices.borrow_mut().insert(
        "blk0".into(),
        DeviceState {
            holder,
            generation,
            confirmed,
            last_holder: holder.or(Some(BLK as u32)),
        },
    );
}

fn stats_text(fixture: &mut Fixture) -> String {
    let handle = fixture.open(BLK, "blk0/stats").unwrap();
    let text = fixture.read_text(BLK, handle, 4096);
    fixture.close(BLK, handle).unwrap();
    text
}

fn line<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find(|line| line.starts_with(key))
        .unwrap_or_else(|| panic!("no {key} line in {text}"))
}

#[test]
fn a_confirmed_quiesce_lets_buffers_return_and_is_recorded() {
    let mut fixture = Fixture::new();
    let free = fixture.stats().free_pages;
    set(&fixture, Some(BLK as u32), 0, 0);
    let (handle, _) = fixture.alloc(BLK, "blk0/alloc?size=16384").unwrap();
    set(&fixture, None, 4, 4);
    fixture.close(BLK, handle).unwrap();
    assert_eq!(fixture.stats().free_pages, free);
    assert_eq!(fixture.stats().quarantined_pages, 0);
    let text = stats_text(&mut fixture);
    assert_eq!(
        line(&text, "quiesce-checked"),
        "quiesce-checked 10 4 4 reused"
    );
}

#[test]
fn an_unconfirmed_quiesce_quarantines_until_a_later_one_is_confirmed() {
    let mut fixture = Fixture::new();
    let free = fixture.stats().free_pages;
    let (first, _) = fixture.alloc(BLK, "blk0/alloc?size=16384").unwrap();
    let (second, _) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    // The holder died and the kernel could not confirm generation 5.
    set(&fixture, None, 5, 2);
    fixture.close(BLK, first).unwrap();
    fixture.close(BLK, second).unwrap();
    let stats = fixture.stats();
    assert_eq!((stats.quarantined_buffers, stats.quarantined_pages), (2, 5));
    assert_eq!(stats.free_pages, free - 5);
    assert_eq!(stats.live_buffers, 0);
    let text = stats_text(&mut fixture);
    assert_eq!(line(&text, "quarantined-pages"), "quarantined-pages 5");
    assert_eq!(
        line(&text, "quiesce-checked"),
        "quiesce-checked 10 5 2 quarantined"
    );
    // Still unconfirmed (another failed attempt): nothing returns, new buffers avoid them.
    set(&fixture, None, 6, 2);
    let (again, _) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    assert_eq!(fixture.stats().quarantined_pages, 5);
    // A process that never held the device releases as usual.
    let (bystander, _) = fixture.alloc(GREEDY, "blk0/alloc?size=4096").unwrap();
    fixture.close(GREEDY, bystander).unwrap();
    assert_eq!(fixture.stats().quarantined_pages, 5);
    assert_eq!(
        fixture.server.last_reclaim("blk0").map(|r| r.quarantined),
        Some(false)
    );
    // A confirmed quiesce after the failure (the next holder's open) lifts it at the next
    // request; the buffer released now is reused at once.
    set(&fixture, Some(BLK as u32), 7, 7);
    fixture.close(BLK, again).unwrap();
    let _ = stats_text(&mut fixture);
    let stats = fixture.stats();
    assert_eq!((stats.quarantined_buffers, stats.quarantined_pages), (0, 0));
    assert_eq!(stats.free_pages, free);
}

#[test]
fn a_kernel_that_does_not_answer_changes_nothing() {
    let mut fixture = Fixture::new();
    let free = fixture.stats().free_pages;
    let (handle, _) = fixture.alloc(BLK, "blk0/alloc?size=4096").unwrap();
    fixture.close(BLK, handle).unwrap();
    assert_eq!(fixture.stats().free_pages, free);
    assert_eq!(
        fixture.server.last_reclaim("blk0").map(|r| r.quarantined),
        Some(false)
    );
}
