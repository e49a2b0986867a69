//! The virtio block driver under test.

use blk_tests::driver_under_test::DriverUnderTest;
use core::sync::atomic::AtomicUsize;
use process_tests::check::Outcome;

/// The virtio block driver, serving `disk:` from `virtio-blk0`.
pub static DRIVER: DriverUnderTest = DriverUnderTest {
    section: "virtio-blk",
    program: "/bin/virtio-blk",
    scheme: disk_api::SCHEME,
    device: "virtio-blk0",
    pid: AtomicUsize::new(0),
};

/// A driver dying mid-I/O gives every buffer back to the pool.
pub fn dying_driver_returns_its_buffers() -> Outcome {
    DRIVER.dies_mid_io()
}

/// A fresh driver serves `disk:`: its size and header are the image's.
pub fn driver_serves_disk() -> Outcome {
    DRIVER.serves_the_image()
}

/// The driver sleeps until its device interrupts (`disk:/status`).
pub fn driver_runs_interrupt_driven() -> Outcome {
    DRIVER.runs_interrupt_driven()
}
