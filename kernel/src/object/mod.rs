//! The object model: every open thing is a handle of one [`Scheme`], and a descriptor names
//! an [`OpenFile`] = (scheme, handle).
//!
//! Kernel schemes (`debug:`, `initfs:`, `sys:`, `memory:`, `device:`, `irq:`), the scheme
//! socket a server reads requests from, and the proxy that forwards to user-scheme servers
//! all implement the one trait; the table that names them is `schemes::TABLE`. This module sits
//! at the bottom of the kernel's layers (it imports nothing from the crate), so the process
//! table can hold descriptor tables while scheme implementations, above it, use processes
//! and IPC: calls go upward only through `dyn Scheme`.

mod files;
mod handles;
mod scheme;
mod transfer;

pub use files::{File, FileTable, OpenFile, MAX_DESCRIPTORS};
pub use handles::Handles;
pub use scheme::{Caller, OpenRequest, Scheme, Status};
pub use transfer::{read_all, Sink, Source};
