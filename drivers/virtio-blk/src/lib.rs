//! The pure parts of the virtio block driver, tested on the host, now shared with every
//! driver in `driver-kit` (device description, `disk:` handle table) and
//! re-exported here under their old names.
//!
//! Everything that touches the machine (the `virtio_drivers::Hal`, the transports, the
//! scheme loop) is in the program's own modules (`main.rs`).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub use driver_kit::{
    size_text_from, text_from, DeviceInfo, Handle, HandleKind, Handles, PciAddress, TransportKind,
};
