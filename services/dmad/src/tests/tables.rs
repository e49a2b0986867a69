//! The text tables and reading them in pieces.

use super::fixture::*;

#[test]
fn root_table_lists_pools() {
    let mut fixture = Fixture::new();
    let root = fixture.open(OTHER, "").unwrap();
    let text = fixture.read_text(OTHER, root, 7);
    let lines: alloc::vec::Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let header: alloc::vec::Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "pool",
            "device",
            "physical",
            "device-address",
            "size-KiB",
            "free-pages",
            "largest-free-run",
            "live-buffers",
            "kind"
        ]
    );
    let row: alloc::vec::Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        row,
        [
            "blk0-pool",
            "blk0",
            "0x80000000",
            "0xc0000000",
            "1024",
            "256",
            "256",
            "0",
            "own"
        ]
    );
    // At its end a read returns nothing, again and again.
    assert_eq!(fixture.read(OTHER, root, 100), Ok(alloc::vec![]));
    fixture.close(OTHER, root).unwrap();
}

#[test]
fn device_table_shows_use_per_owner() {
    let mut fixture = Fixture::new();
    fixture.alloc(BLK, "blk0/alloc?size=0x2000").unwrap();
    fixture.alloc(GREEDY, "blk0/alloc?size=0x1000").unwrap();
    let stats = fixture.open(OTHER, "blk0/stats").unwrap();
    let text = fixture.read_text(OTHER, stats, 4096);
    let row: alloc::vec::Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row[5..], ["253", "253", "2", "own"], "{text}");
    assert!(text.contains("\npages 256\n"), "{text}");
    assert!(text.contains("\ncache-type write-combining\n"), "{text}");
    assert!(text.contains("\nhigh-water-pages 3\n"), "{text}");
    let owner = |pid: u64| {
        text.lines()
            .map(|line| line.split_whitespace().collect::<alloc::vec::Vec<_>>())
            .find(|columns| columns.first() == Some(&alloc::format!("{pid}").as_str()))
            .unwrap()
            .join(" ")
    };
    assert_eq!(owner(BLK), "10 blk 2 8");
    assert_eq!(owner(GREEDY), "12 greedy 1 none");
}
