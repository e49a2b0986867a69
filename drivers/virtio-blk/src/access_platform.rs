//! A transport wrapper that accepts `VIRTIO_F_ACCESS_PLATFORM` (feature bit 33) whenever the
//! device offers it.
//!
//! A virtio device behind an IOMMU (QEMU `iommu_platform=on`) offers ACCESS_PLATFORM and
//! refuses `FEATURES_OK` unless the driver accepts it: the bit says the device's DMA goes
//! through the platform's address translation, so the addresses the driver hands it must be
//! device addresses (IOVAs), not physical ones. This driver only ever hands out the device
//! addresses dmad's descriptors carry, which are the IOVAs, so accepting is always right.
//! `virtio-drivers` 0.13 negotiates only the features of each device type's own flags type,
//! which lacks bit 33, so its default `begin_init` would drop it. Rather than patch the crate,
//! this wrapper adds the bit in `write_driver_features` — the one place the negotiated set
//! reaches the device — and delegates everything else unchanged.

use virtio_drivers::transport::{DeviceStatus, DeviceType, InterruptStatus, Transport};
use virtio_drivers::{PhysAddr, Result};
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// `VIRTIO_F_ACCESS_PLATFORM` (virtio 1.1, 6 Reserved Feature Bits).
pub const ACCESS_PLATFORM: u64 = 1 << 33;

/// `T`, accepting ACCESS_PLATFORM when offered.
pub struct AccessPlatform<T> {
    inner: T,
    accepted: bool,
}

impl<T: Transport> AccessPlatform<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        AccessPlatform {
            inner,
            accepted: false,
        }
    }

    /// Whether the device offered, and the driver accepted, ACCESS_PLATFORM.
    pub fn accepted(&self) -> bool {
        self.accepted
    }
}

/// The features to write: `negotiated` plus ACCESS_PLATFORM if `offered` has it.
pub fn with_access_platform(negotiated: u64, offered: u64) -> u64 {
    negotiated | (offered & ACCESS_PLATFORM)
}

impl<T: Transport> Transport for AccessPlatform<T> {
    fn device_type(&self) -> DeviceType {
        self.inner.device_type()
    }

    fn read_device_features(&mut self) -> u64 {
        self.inner.read_device_features()
    }

    fn write_driver_features(&mut self, driver_features: u64) {
        let offered = self.inner.read_device_features();
        let features = with_access_platform(driver_features, offered);
        self.accepted = features & ACCESS_PLATFORM != 0;
        self.inner.write_driver_features(features);
    }

    fn max_queue_size(&mut self, queue: u16) -> u32 {
        self.inner.max_queue_size(queue)
    }

    fn notify(&mut self, queue: u16) {
        self.inner.notify(queue)
    }

    fn get_status(&self) -> DeviceStatus {
        self.inner.get_status()
    }

    fn set_status(&mut self, status: DeviceStatus) {
        self.inner.set_status(status)
    }

    fn set_guest_page_size(&mut self, guest_page_size: u32) {
        self.inner.set_guest_page_size(guest_page_size)
    }

    fn requires_legacy_layout(&self) -> bool {
        self.inner.requires_legacy_layout()
    }

    fn queue_set(
        &mut self,
        queue: u16,
        size: u32,
        descriptors: PhysAddr,
        driver_area: PhysAddr,
        device_area: PhysAddr,
    ) {
        self.inner
            .queue_set(queue, size, descriptors, driver_area, device_area)
    }

    fn queue_unset(&mut self, queue: u16) {
        self.inner.queue_unset(queue)
    }

    fn queue_used(&mut self, queue: u16) -> bool {
        self.inner.queue_used(queue)
    }

    fn ack_interrupt(&mut self) -> InterruptStatus {
        self.inner.ack_interrupt()
    }

    fn read_config_generation(&self) -> u32 {
        self.inner.read_config_generation()
    }

    fn read_config_space<V: FromBytes + IntoBytes>(&self, offset: usize) -> Result<V> {
        self.inner.read_config_space(offset)
    }

    fn write_config_space<V: IntoBytes + Immutable>(
        &mut self,
        offset: usize,
        value: V,
    ) -> Result<()> {
        self.inner.write_config_space(offset, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bit_is_added_only_when_offered() {
        assert_eq!(
            with_access_platform(1 << 32, ACCESS_PLATFORM | 1 << 32),
            ACCESS_PLATFORM | 1 << 32
        );
        assert_eq!(with_access_platform(1 << 32, 1 << 32), 1 << 32);
    }
}
