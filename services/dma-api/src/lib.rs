//! The `dma:` scheme's interface, defined once for dmad and every client.
//!
//! | request | here |
//! | --- | --- |
//! | open `dma:/DEV/alloc?size=N[&align=A][&mask=M][&boundary=B]` | [`AllocPath`] (client), [`DmaPath::Alloc`] (server) |
//! | read / call on a buffer descriptor | [`DmaBufferInfo`], [`DmaBufferInfo::SIZE`] bytes |
//! | read `dma:/`, `dma:/DEV/stats` | [`DmaPath::Root`], [`DmaPath::Stats`]: text tables |
//! | open `dma:/declare?...`, `dma:/DEV/release-pool` | [`DmaPath::Declare`], [`DmaPath::ReleasePool`] (`declare-pools` right) |
//! | errors | [`DmaError`]: one Redox errno per meaning |
//!
//! Paths are the part after `dma:` with leading slashes removed, as the kernel hands them to
//! the server; [`DmaPath::parse`] also accepts them with leading slashes. The crate has no
//! dependencies and allocates nothing.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod descriptor;
mod error;
mod number;
mod path;

pub use descriptor::{cache_type, DmaBufferInfo};
pub use error::DmaError;
pub use number::parse_number;
pub use path::{AllocPath, DeclareRequest, DmaPath};

/// The scheme's name.
pub const SCHEME: &str = "dma";

/// Bytes in a page: buffer sizes are rounded up to a power-of-two number of pages.
pub const PAGE_SIZE: u64 = 4096;
