//! What coherent's driver processes share, so each driver is only its device's protocol.
//!
//! - [`DeviceInfo`]: the text `device:NAME` reads as (kind, register ranges, PCI function);
//! - [`registers::Registers`]: that description opened and its ranges `fmap`ped on demand;
//! - [`Handles`]: the server side of the `disk:` interface (`disk-api`), which
//!   the virtio block and NVMe drivers both serve;
//! - [`server`]: the `disk:` request loop over any [`server::BlockDevice`];
//! - [`completion`]: waiting for a device by interrupt (`irq:`, with the scheme socket),
//!   or by polling as the logged fallback, and the `disk:/status` counters;
//! - [`options`]: the drivers' command line and their test-only crash counter.
//!
//! The pure parts (description, handle table) are tested on the host.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

pub mod completion;
mod device_info;
pub mod faults;
mod handles;
pub mod options;
pub mod registers;
pub mod server;

pub use device_info::{DeviceInfo, PciAddress, TransportKind};
pub use handles::{size_text_from, text_from, Handle, HandleKind, Handles};
