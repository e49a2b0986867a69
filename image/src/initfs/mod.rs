//! The initfs: a cpio "newc" archive the boot loader loads as the initrd.
//!
//! Format (as in `cpio -H newc` and Linux's initramfs): each entry is a 110-byte ASCII header
//! (magic `070701`, then thirteen eight-digit hexadecimal fields), the NUL-terminated name
//! padded so header and name end on a four-byte boundary, and the data padded to four bytes.
//! An entry named `TRAILER!!!` ends the archive.
//!
//! The reader ([`Archive`]) validates the whole archive once and then hands out entries that
//! borrow from it, allocating nothing, so the kernel can use it before it has a heap. The
//! writer ([`Builder`], feature `std`) is what `xtask` packs images with.

mod archive;
#[cfg(any(test, feature = "std"))]
mod builder;
mod error;
mod header;
#[cfg(test)]
mod tests;

pub use archive::{Archive, Entries, Entry};
#[cfg(any(test, feature = "std"))]
pub use builder::{BuildError, Builder};
pub use error::{InitfsError, InitfsErrorKind};
pub use header::{HEADER_LENGTH, MAGIC, MODE_DIRECTORY, MODE_REGULAR_FILE, TRAILER_NAME};
