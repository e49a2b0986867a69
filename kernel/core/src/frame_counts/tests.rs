//! The frame counts against a plain model: a map from frame to its holders.

extern crate std;

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

#[test]
fn an_unshared_frame_is_freed_by_its_one_holder() {
    let mut counts = FrameCounts::new();
    assert_eq!(counts.holders(0x1000), 1);
    assert_eq!(counts.release(0x1000), Release::Free);
}

#[test]
fn a_lent_frame_outlives_its_owner() {
    let mut counts = FrameCounts::new();
    counts.share(&[0x1000, 0x2000]).unwrap();
    counts.share(&[0x1000]).unwrap();
    assert_eq!(counts.holders(0x1000), 3);
    // The owner unmaps: the two borrowers still hold 0x1000, one holds 0x2000.
    assert_eq!(counts.release(0x1000), Release::StillHeld);
    assert_eq!(counts.release(0x2000), Release::StillHeld);
    assert_eq!(counts.shared_frames(), 1);
    assert_eq!(counts.release(0x2000), Release::Free);
    assert_eq!(counts.release(0x1000), Release::StillHeld);
    assert_eq!(counts.release(0x1000), Release::Free);
    assert_eq!(counts.shared_frames(), 0);
}

#[test]
fn any_shared_looks_only_inside_the_range() {
    let mut counts = FrameCounts::new();
    counts.share(&[0x5000]).unwrap();
    assert!(!counts.any_shared(0x0, 0x5000));
    assert!(counts.any_shared(0x4000, 0x6000));
    assert!(counts.any_shared(0x5000, 0x5001));
    assert!(!counts.any_shared(0x6000, 0x9000));
}

/// One step against both the table and the model.
#[derive(Clone, Debug)]
enum Step {
    /// The allocator hands out a new frame (one holder).
    Allocate,
    /// Lend these held frames (by index into the live ones) once more.
    Share(Vec<usize>),
    /// A holder of this live frame (by index) lets go.
    Release(usize),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        1 => Just(Step::Allocate),
        2 => proptest::collection::vec(0usize..64, 1..5).prop_map(Step::Share),
        2 => (0usize..64).prop_map(Step::Release),
    ];
    proptest::collection::vec(step, 1..200)
}

proptest! {
    /// The table says "free" exactly when the model's last holder lets go, and agrees on
    /// every live frame's holders after every step.
    #[test]
    fn counts_match_the_model(steps in steps()) {
        let mut counts = FrameCounts::new();
        let mut model: BTreeMap<u64, u32> = BTreeMap::new();
        let mut next = 0x1000u64;
        for step in steps {
            let live: Vec<u64> = model.keys().copied().collect();
            match step {
                Step::Allocate => {
                    model.insert(next, 1);
                    next += 0x1000;
                }
                Step::Share(picks) => {
                    if live.is_empty() {
                        continue;
                    }
                    let frames: Vec<u64> = picks.iter().map(|pick| live[pick % live.len()]).collect();
                    counts.share(&frames).unwrap();
                    for frame in frames {
                        *model.get_mut(&frame).unwrap() += 1;
                    }
                }
                Step::Release(pick) => {
                    if live.is_empty() {
                        continue;
                    }
                    let frame = live[pick % live.len()];
                    let holders = model.get_mut(&frame).unwrap();
                    *holders -= 1;
                    let expected = if *holders == 0 {
                        model.remove(&frame);
                        Release::Free
                    } else {
                        Release::StillHeld
                    };
                    prop_assert_eq!(counts.release(frame), expected);
                }
            }
            for (&frame, &holders) in &model {
                prop_assert_eq!(counts.holders(frame), holders);
            }
            let shared = model.values().filter(|&&holders| holders > 1).count();
            prop_assert_eq!(counts.shared_frames(), shared);
        }
    }
}
