//! The `disk:` scheme's interface, defined once for the block driver and every client.
//!
//! | request | here |
//! | --- | --- |
//! | open `disk:` or `disk:/OFFSET` | [`DiskPath::Disk`]: a handle positioned at byte `OFFSET` (decimal, sector-aligned) |
//! | open `disk:/size` | [`DiskPath::Size`]: a text file `size BYTES` ([`SizeText`]) |
//! | open `disk:/status` | [`DiskPath::Status`]: the driver's state, `KEY VALUE` lines ([`status`]) |
//! | read / write on a disk handle | [`Transfer::check`]: sector-aligned, at most [`MAX_TRANSFER`] bytes, advancing the position |
//! | call on a disk handle | [`Seek`]: 8-byte little-endian offset in, the new position out |
//! | call on a disk handle (optional) | [`Bulk`]: many sectors in one device request, a digest out ([`bulk`]) |
//! | errors | [`DiskError`]: one Redox errno per meaning |
//!
//! [`image`] describes the disk image `cargo xtask` attaches (a header sector and a known
//! pattern), so the host tool and the guest programs agree on it. The crate has no
//! dependencies and allocates nothing.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bulk;
mod error;
pub mod image;
mod path;
mod transfer;

pub use bulk::{Bulk, BulkKind};
pub use error::DiskError;
pub use path::{DiskPath, SchemePath, SizeText};
pub use transfer::{Seek, Transfer};

/// The scheme's name.
pub const SCHEME: &str = "disk";

/// Bytes in a sector: every offset and length on `disk:` is a multiple of it.
pub const SECTOR_SIZE: u64 = 512;

/// The most bytes one read or write moves (the kernel's scheme payload limit).
pub const MAX_TRANSFER: usize = 4096;

/// The `disk:/status` text: what a driver tells about itself, one `KEY VALUE` per line.
///
/// | key | value |
/// | --- | --- |
/// | `mode` | `interrupt` (completions wake the driver) or `polling` (the fallback) |
/// | `interrupts` | interrupts the driver has taken |
/// | `completions` | requests the device has completed |
/// | `polled` | completions found by polling after an interrupt did not come |
/// | `stashed` | requests read from `disk:` while a transfer was in flight |
/// | `inherited` | interrupts left unacknowledged by a previous driver, taken at start |
pub mod status {
    /// The value of `key` in a status text, as a number (`mode` is not one).
    pub fn number(text: &str, key: &str) -> Option<u64> {
        value(text, key)?.parse().ok()
    }

    /// The value of `key` in a status text.
    pub fn value<'text>(text: &'text str, key: &str) -> Option<&'text str> {
        text.lines().find_map(|line| {
            let (name, value) = line.split_once(' ')?;
            (name == key).then_some(value.trim())
        })
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn reads_keys() {
            let text = "mode interrupt\ninterrupts 12\n";
            assert_eq!(super::value(text, "mode"), Some("interrupt"));
            assert_eq!(super::number(text, "interrupts"), Some(12));
            assert_eq!(super::number(text, "polled"), None);
        }
    }
}
