//! Random operations for the model check: decoded from plain random numbers so that any
//! random source (proptest in every crate that runs the check) can drive them.

use super::every_flags;
use super::std::vec::Vec;
#[cfg(doc)]
use crate::paging::PageTable;
use crate::paging::{PageSizes, PAGE_SIZE};
use crate::PageFlags;

/// Pages in each window the random operations touch: two 2 MiB slots.
const WINDOW_PAGES: u64 = 1024;
/// The lower window straddles the boundary between root entries 0 and 1.
const LOWER_WINDOW: u64 = (1 << 39) - (2 << 20);
/// The upper window ends at the very top of the address space.
const UPPER_WINDOW: u64 = 0u64.wrapping_sub(WINDOW_PAGES * PAGE_SIZE);
/// Where the physical addresses the operations map start.
const PHYSICAL_BASE: u64 = 0x4000_0000;

/// What a random operation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// [`PageTable::map`].
    Map,
    /// [`PageTable::unmap`].
    Unmap,
    /// [`PageTable::protect`].
    Protect,
}

/// One random operation on a window of the lower or the upper half.
#[derive(Clone, Copy, Debug)]
pub struct Operation {
    /// What it does.
    pub kind: Kind,
    /// The first virtual address.
    pub virtual_start: u64,
    /// The size in bytes.
    pub size: u64,
    /// The first physical address (maps only).
    pub physical_start: u64,
    /// The flags to map or protect with.
    pub flags: PageFlags,
    /// The leaf sizes a map may use.
    pub page_sizes: PageSizes,
}

impl Operation {
    /// Decodes four random numbers into an operation, biased towards 2 MiB-aligned ranges and
    /// physical addresses so that large leaves and overlaps both happen often.
    pub fn from_random(random: (u32, u32, u32, u8)) -> Self {
        let (place, length, target, choice) = random;
        let first_page = if place & 1 != 0 {
            u64::from((place >> 1) % 2) * 512
        } else {
            u64::from(place >> 1) % WINDOW_PAGES
        };
        let pages = if length & 1 != 0 {
            512 * (1 + u64::from((length >> 1) % 2))
        } else {
            1 + u64::from(length >> 1) % 48
        };
        let pages = pages.min(WINDOW_PAGES - first_page);
        let window = if choice & 4 != 0 {
            UPPER_WINDOW
        } else {
            LOWER_WINDOW
        };
        let physical_page = if target & 0x100 != 0 {
            first_page
        } else {
            u64::from(target >> 9) % WINDOW_PAGES
        };
        let flags_list: Vec<PageFlags> = every_flags().collect();
        Operation {
            kind: [Kind::Map, Kind::Unmap, Kind::Protect][usize::from(choice % 3)],
            virtual_start: window + first_page * PAGE_SIZE,
            size: pages * PAGE_SIZE,
            physical_start: PHYSICAL_BASE
                + u64::from(target % 8) * (4 << 20)
                + physical_page * PAGE_SIZE,
            flags: flags_list[(target >> 20) as usize % flags_list.len()],
            page_sizes: if choice & 8 != 0 {
                PageSizes::Any
            } else {
                PageSizes::Small
            },
        }
    }
}
