//! Each error has one errno and each errno one error.

use super::*;

#[test]
fn named_errors_round_trip_through_their_errno() {
    for (error, number) in TABLE {
        assert_eq!(error.errno(), number);
        assert_eq!(Error::from_errno(number), Some(error));
    }
}

#[test]
fn errnos_are_distinct() {
    for (index, (_, number)) in TABLE.iter().enumerate() {
        assert!(TABLE[index + 1..].iter().all(|(_, other)| other != number));
    }
}

#[test]
fn other_server_errnos_pass_through() {
    assert_eq!(
        Error::from_errno(errno::EDQUOT),
        Some(Error::Server(errno::EDQUOT as u16))
    );
    assert_eq!(Error::Server(errno::EROFS as u16).errno(), errno::EROFS);
    assert_eq!(Error::from_errno(0), None);
    assert_eq!(Error::from_errno(MAX_ERRNO + 1), None);
    assert_eq!(Error::from_errno(-5), None);
}

#[test]
fn result_words_decode() {
    assert_eq!(Error::from_result_word(7), Ok(7));
    assert_eq!(
        Error::from_result_word((-(errno::ENOMEM as i64)) as u64),
        Err(Error::OutOfMemory)
    );
    assert_eq!(
        Error::from_result_word(u64::MAX - 5000),
        Ok((u64::MAX - 5000) as usize)
    );
}
