//! The pure parts of the virtio block driver, tested on the host: what `device:` says about
//! the device, the table of open `disk:` handles, and the transport wrapper that accepts
//! `VIRTIO_F_ACCESS_PLATFORM` behind an IOMMU ([`access_platform`]) (the scheme's wire messages are
//! `userlib::server`'s, shared by every server).
//!
//! Everything that touches the machine (the `virtio_drivers::Hal`, the transports, the
//! scheme loop) is in the program's own modules (`main.rs`).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod access_platform;
mod device_info;
mod handles;

pub use device_info::{DeviceInfo, PciAddress, TransportKind};
pub use handles::{size_text_from, text_from, Handle, HandleKind, Handles};
