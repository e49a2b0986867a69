//! Waiting on several descriptors at once (`SYS_WAIT_ANY`), and a device's interrupt
//! (`irq:NAME`).

use core::time::Duration;
use kernel_core::abi::{SYS_WAIT_ANY, WAIT_FOREVER};
use syscall::{syscall3, Result};

/// Blocks until one of `descriptors` (scheme sockets and `irq:` descriptors) is ready and
/// returns its position in the slice; with `timeout`, `ETIMEDOUT` once it has passed.
///
/// # Errors
///
/// `EBADF` for a descriptor that is not open, `EINVAL` for one that cannot be waited on or
/// for more than `abi::MAX_WAIT_DESCRIPTORS`, `ETIMEDOUT`.
pub fn wait_any(descriptors: &[usize], timeout: Option<Duration>) -> Result<usize> {
    let timeout = timeout.map_or(WAIT_FOREVER, |timeout| {
        usize::try_from(timeout.as_nanos())
            .unwrap_or(WAIT_FOREVER - 1)
            .min(WAIT_FOREVER - 1)
    });
    // SAFETY: the kernel only reads `descriptors.len()` words at `descriptors`, which this
    // borrow keeps alive for the call.
    unsafe {
        syscall3(
            SYS_WAIT_ANY,
            descriptors.as_ptr() as usize,
            descriptors.len(),
            timeout,
        )
    }
}

/// A held device interrupt: `irq:NAME` open.
#[derive(Debug)]
pub struct Interrupt {
    descriptor: usize,
}

impl Interrupt {
    /// Takes device `device`'s interrupt line.
    ///
    /// # Errors
    ///
    /// `EACCES` when this process is not granted the device, `EBUSY` when another process
    /// holds its line, `ENOENT` for an unknown device, `ENODEV` when it has no interrupt the
    /// kernel can route.
    pub fn open(device: &str) -> Result<Self> {
        let path = alloc::format!("irq:{device}");
        let descriptor = super::open(&path, syscall::flag::O_RDWR)?;
        Ok(Interrupt { descriptor })
    }

    /// The descriptor, for [`wait_any`].
    pub fn descriptor(&self) -> usize {
        self.descriptor
    }

    /// Blocks until the device interrupts; returns the line's interrupt count so far.
    ///
    /// # Errors
    ///
    /// What the kernel says (`EBADF` if the descriptor was closed).
    pub fn wait(&self) -> Result<u64> {
        let mut count = [0u8; 8];
        syscall::read(self.descriptor, &mut count)?;
        Ok(u64::from_le_bytes(count))
    }

    /// Acknowledges the interrupt [`Interrupt::wait`] returned `count` for: the line is
    /// unmasked (call after the device's own interrupt status is cleared).
    ///
    /// # Errors
    ///
    /// What the kernel says.
    pub fn acknowledge(&self, count: u64) -> Result<()> {
        syscall::write(self.descriptor, &count.to_le_bytes()).map(|_| ())
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        let _ = super::close(self.descriptor);
    }
}
