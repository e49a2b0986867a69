//! The pure parts of the virtio block driver, tested on the host: the transport wrapper
//! that accepts `VIRTIO_F_ACCESS_PLATFORM` behind an IOMMU ([`access_platform`]), and,
//! now shared with every driver in `driver-kit` (device description, `disk:` handle table),
//! re-exported here under their old names.
//!
//! Everything that touches the machine (the `virtio_drivers::Hal`, the transports, the
//! scheme loop) is in the program's own modules (`main.rs`).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod access_platform;

pub use driver_kit::{
    size_text_from, text_from, DeviceInfo, Handle, HandleKind, Handles, PciAddress, TransportKind,
};
