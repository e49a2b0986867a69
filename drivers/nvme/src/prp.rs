//! Physical Region Page entries: how a command says where its data is.
//!
//! A transfer of `length` bytes at device address `address` (4-byte aligned) touches the
//! pages from `address`'s page to the page of its last byte. PRP1 is `address` itself.
//! If one page holds it all, PRP2 is 0; if two, PRP2 is the second page; otherwise PRP2
//! points at a PRP list: the page address of every page after the first, in order. One
//! list page holds 512 entries; longer lists chain through the last entry, which the
//! driver never needs (it moves at most 128 KiB, 33 pages) and [`plan`] refuses.

use crate::PAGE_SIZE;

/// Entries in one PRP list page.
pub const LIST_ENTRIES: usize = (PAGE_SIZE / 8) as usize;

/// How a transfer's data pointer is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prp {
    /// PRP1 alone.
    One(u64),
    /// PRP1 and the second page in PRP2.
    Two(u64, u64),
    /// PRP1, and a list of `entries` page addresses (from [`list_entries`]) whose page's
    /// address goes in PRP2.
    List {
        /// PRP1.
        first: u64,
        /// How many entries the list holds.
        entries: usize,
    },
}

/// Why a transfer cannot be described.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrpError {
    /// Zero bytes, or an address not 4-byte aligned.
    Invalid,
    /// More pages than one list page describes.
    TooLong,
}

/// The data pointer for `length` bytes at `address`.
///
/// # Errors
///
/// [`PrpError::Invalid`] for an empty or misaligned transfer, [`PrpError::TooLong`] for one
/// that needs a chained list, or one whose end overflows.
pub fn plan(address: u64, length: u64) -> Result<Prp, PrpError> {
    if length == 0 || !address.is_multiple_of(4) {
        return Err(PrpError::Invalid);
    }
    let last = address.checked_add(length - 1).ok_or(PrpError::TooLong)?;
    let pages = (last / PAGE_SIZE - address / PAGE_SIZE + 1) as usize;
    match pages {
        1 => Ok(Prp::One(address)),
        2 => Ok(Prp::Two(address, page_of(address) + PAGE_SIZE)),
        _ if pages - 1 <= LIST_ENTRIES => Ok(Prp::List {
            first: address,
            entries: pages - 1,
        }),
        _ => Err(PrpError::TooLong),
    }
}

/// The list entries of a [`Prp::List`] starting at `first`: the pages after the first.
pub fn list_entries(first: u64, entries: usize) -> impl Iterator<Item = u64> {
    let second = page_of(first) + PAGE_SIZE;
    (0..entries as u64).map(move |index| second + index * PAGE_SIZE)
}

/// PRP1 and PRP2 once the list (if any) is at `list`.
pub fn pointers(prp: Prp, list: u64) -> (u64, u64) {
    match prp {
        Prp::One(first) => (first, 0),
        Prp::Two(first, second) => (first, second),
        Prp::List { first, .. } => (first, list),
    }
}

fn page_of(address: u64) -> u64 {
    address & !(PAGE_SIZE - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn one_and_two_pages_need_no_list() {
        assert_eq!(plan(0x10_0000, 512), Ok(Prp::One(0x10_0000)));
        assert_eq!(plan(0x10_0000, 4096), Ok(Prp::One(0x10_0000)));
        assert_eq!(plan(0x10_0e00, 1024), Ok(Prp::Two(0x10_0e00, 0x10_1000)));
        assert_eq!(plan(0x10_0000, 8192), Ok(Prp::Two(0x10_0000, 0x10_1000)));
        assert_eq!(
            pointers(Prp::Two(1 << 20, 2 << 20), 0xdead_0000),
            (1 << 20, 2 << 20)
        );
        assert_eq!(pointers(Prp::One(1 << 20), 0xdead_0000), (1 << 20, 0));
    }

    #[test]
    fn longer_transfers_get_a_list_of_the_following_pages() {
        let prp = plan(0x20_0000, 128 * 1024).unwrap();
        assert_eq!(
            prp,
            Prp::List {
                first: 0x20_0000,
                entries: 31
            }
        );
        let entries: Vec<u64> = list_entries(0x20_0000, 31).collect();
        assert_eq!(entries[0], 0x20_1000);
        assert_eq!(entries[30], 0x21_f000);
        assert_eq!(pointers(prp, 0x30_0000), (0x20_0000, 0x30_0000));
        // An offset first page: 3 pages for 8 KiB.
        assert_eq!(
            plan(0x20_0200, 8192),
            Ok(Prp::List {
                first: 0x20_0200,
                entries: 2
            })
        );
        assert_eq!(
            list_entries(0x20_0200, 2).collect::<Vec<_>>(),
            [0x20_1000, 0x20_2000]
        );
    }

    #[test]
    fn refuses_what_it_cannot_describe() {
        assert_eq!(plan(0x1000, 0), Err(PrpError::Invalid));
        assert_eq!(plan(0x1002, 512), Err(PrpError::Invalid));
        assert_eq!(plan(0, 514 * 4096), Err(PrpError::TooLong));
        assert!(plan(0, 513 * 4096).is_ok());
        assert_eq!(plan(u64::MAX - 3, 8), Err(PrpError::TooLong));
    }
}
