//! Host-test helpers for any [`PageTableFormat`]: emulated memory, a model, shared scenarios.
//!
//! Built for kernel-core's own tests and, behind the `testing` feature, for the arch crates,
//! which run the same scenarios against their real formats:
//! `kernel_core::page_table_scenarios!(MyFormat);` expands to one `#[test]` per scenario, and
//! [`model::check_sequence`] replays random operations against a plain model.

extern crate std;

mod emulated;
pub mod model;
mod operation;
pub mod scenarios;

pub use emulated::{emulated_machine, EmulatedFrames, EmulatedMemory};

use crate::paging::PageTableFormat;
use crate::{CacheType, PageFlags};

/// Every combination of user, writable and executable with every memory type (32 in all).
pub fn every_flags() -> impl Iterator<Item = PageFlags> {
    CacheType::ALL.into_iter().flat_map(|cache| {
        (0..8u8).map(move |bits| {
            let mut flags = if bits & 1 != 0 {
                PageFlags::user()
            } else {
                PageFlags::kernel()
            };
            if bits & 2 != 0 {
                flags = flags.writable();
            }
            if bits & 4 != 0 {
                flags = flags.executable();
            }
            flags.cache(cache)
        })
    })
}

/// `flags` as format `F` reads them back from a leaf at `level` (x86 reads `Device` as
/// `Uncached`), or `None` when `F` refuses to encode them.
pub fn normalized<F: PageTableFormat>(flags: PageFlags, level: usize) -> Option<PageFlags> {
    let entry = F::encode_leaf(0, flags, level).ok()?;
    let (_, decoded) = F::decode_leaf(entry, level).expect("an encoded leaf decodes");
    Some(decoded)
}

/// Expands to one `#[test]` per shared scenario in [`scenarios`], for the format `$format`.
#[macro_export]
macro_rules! page_table_scenarios {
    ($format:ty) => {
        $crate::page_table_scenarios!(@tests $format;
            every_flags_round_trip,
            large_pages_only_with_any,
            requests_refused_change_nothing,
            out_of_frames_midway_changes_nothing,
            unmap_frees_empty_tables,
            upper_half_ranges_work,
            for_each_leaf_visits_exactly_the_mapped_leaves,
            protect_changes_flags_in_place,
            destroy_frees_every_table,
            zero_sizes_change_nothing,
        );
    };
    (@tests $format:ty; $($scenario:ident),* $(,)?) => {
        $(
            #[test]
            fn $scenario() {
                $crate::paging::testing::scenarios::$scenario::<$format>();
            }
        )*
    };
}
