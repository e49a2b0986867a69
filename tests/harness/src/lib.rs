//! Host-side QEMU harness: boots a guest image, reads its test lines and exit status.
