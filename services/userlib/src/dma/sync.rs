//! The one place CPU/device ownership hand-offs synchronise: every [`DeviceOwned`] lend and
//! reclaim and every streaming map and unmap calls [`for_device`] or [`for_cpu`] here.
//!
//! SYNC POINT (issue 16): today every pool is mapped write-combining or uncached, so a
//! barrier is all a hand-off needs ([`write_barrier`] drains write-combining buffers before
//! the device looks; [`read_barrier`] orders the device's completion before the CPU's reads).
//! When the kernel offers `sync_for_device` / `sync_for_cpu` (cache clean / invalidate by
//! address, for write-back pools), they are called here, and only here, with the same
//! arguments.
//!
//! [`DeviceOwned`]: super::DeviceOwned

use super::{read_barrier, write_barrier};

/// The CPU is done with `length` bytes at `cpu_address` (device address
/// `device_address`): make its writes visible to the device before the device is told.
pub(crate) fn for_device(cpu_address: usize, device_address: u64, length: usize) {
    let _ = (cpu_address, device_address, length);
    write_barrier();
}

/// The device is done with `length` bytes at `cpu_address` (device address
/// `device_address`): make its writes visible to the CPU before the CPU reads them.
pub(crate) fn for_cpu(cpu_address: usize, device_address: u64, length: usize) {
    let _ = (cpu_address, device_address, length);
    read_barrier();
}
