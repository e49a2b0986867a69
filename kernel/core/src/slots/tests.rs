//! The lowest free number, the limit, and values given back.

use super::*;

#[test]
fn numbers_start_at_zero_and_reuse_the_lowest_free() {
    let mut slots = Slots::new(8);
    assert_eq!(slots.insert('a'), Ok(0));
    assert_eq!(slots.insert('b'), Ok(1));
    assert_eq!(slots.insert('c'), Ok(2));
    assert_eq!(slots.remove(1), Some('b'));
    assert_eq!(slots.remove(1), None);
    assert_eq!(slots.insert('d'), Ok(1));
    assert_eq!(slots.get(1), Some(&'d'));
    assert_eq!(slots.insert('e'), Ok(3));
}

#[test]
fn the_limit_gives_the_value_back() {
    let mut slots = Slots::new(2);
    assert_eq!(slots.insert(10), Ok(0));
    assert_eq!(slots.insert(11), Ok(1));
    assert_eq!(slots.insert(12), Err((12, Error::TooManyFiles)));
    assert_eq!(slots.remove(0), Some(10));
    assert_eq!(slots.insert(12), Ok(0));
}

#[test]
fn unknown_numbers_are_nothing() {
    let mut slots: Slots<u8> = Slots::new(4);
    assert_eq!(slots.get(0), None);
    assert_eq!(slots.get_mut(usize::MAX), None);
    assert_eq!(slots.remove(3), None);
}

#[test]
fn take_all_empties_in_number_order() {
    let mut slots = Slots::new(4);
    for value in [5, 6, 7] {
        slots.insert(value).map_err(|_| ()).unwrap();
    }
    slots.remove(1);
    if let Some(value) = slots.get_mut(2) {
        *value = 70;
    }
    assert_eq!(slots.take_all().collect::<Vec<_>>(), [5, 70]);
    assert_eq!(slots.insert(8), Ok(0));
}
