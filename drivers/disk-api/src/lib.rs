//! The `disk:` scheme's interface, defined once for the block driver and every client.
//!
//! | request | here |
//! | --- | --- |
//! | open `disk:` or `disk:/OFFSET` | [`DiskPath::Disk`]: a handle positioned at byte `OFFSET` (decimal, sector-aligned) |
//! | open `disk:/size` | [`DiskPath::Size`]: a text file `size BYTES` ([`SizeText`]) |
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
