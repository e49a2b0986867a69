//! Sharing buffers between processes through dmad (`dmad::share`): the export `call`, and
//! the mailbox the `dma-api` suite's driver and its `dma-sharer` child talk through — one
//! shared page of 64-bit words, written and read volatile.

use crate::buffer::Buffer;
use alloc::string::String;
use core::sync::atomic::{fence, Ordering};
use core::time::Duration;
use userlib::sys::{self, error::Error};

/// What every word `index` of the exported buffer's first page holds.
pub fn pattern(index: usize) -> u64 {
    0x5ea4_ed00_0000_0000 ^ (index as u64).wrapping_mul(0x9e37_79b9)
}

/// Mailbox word: the child's progress ([`IMPORTED`], [`DONE`]) or the parent's
/// ([`RELEASED`]); [`FAILED`] when the child gave up.
pub const STATE: usize = 0;
/// Mailbox word: the device address the child was given for the shared buffer.
pub const DEVICE_ADDRESS: usize = 1;
/// Mailbox word: edu's faults the child counted after it let go of the buffer.
pub const FAULTS_AFTER: usize = 2;

/// The child imported, checked and had the device write the buffer.
pub const IMPORTED: u64 = 1;
/// The parent released its buffer.
pub const RELEASED: u64 = 2;
/// The child checked the buffer outlived the parent's release, released it, and saw the
/// device fault.
pub const DONE: u64 = 3;
/// The child failed (its reason is on the console).
pub const FAILED: u64 = 0xdead;

/// Asks dmad to export buffer descriptor `fd` (`request` is `export[?device=D][&pid=P]`):
/// the token's 32 hex digits.
///
/// # Errors
///
/// The `call`'s errno.
pub fn export(fd: usize, request: &str) -> Result<String, Error> {
    let mut bytes = [0u8; 64];
    bytes[..request.len()].copy_from_slice(request.as_bytes());
    let length = sys::call(fd, &mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes[..length.min(bytes.len())]).into_owned())
}

/// A mapped mailbox page.
pub struct Mailbox {
    base: *mut u64,
}

impl Mailbox {
    /// The mailbox at `address`, which maps a buffer of at least one page read-write for as
    /// long as the mailbox is used.
    pub fn at(address: usize) -> Self {
        Mailbox {
            base: address as *mut u64,
        }
    }

    /// Word `index`.
    pub fn read(&self, index: usize) -> u64 {
        // SAFETY: `at`'s contract: a mapped, writable page; `index` is one of the words above.
        unsafe { self.base.add(index).read_volatile() }
    }

    /// Writes word `index` and drains write-combining buffers, so the other process sees it.
    pub fn write(&self, index: usize, value: u64) {
        // SAFETY: as in `read`.
        unsafe { self.base.add(index).write_volatile(value) };
        fence(Ordering::SeqCst);
    }

    /// Waits until word [`STATE`] is one of `states`, for at most `timeout`; the state seen.
    pub fn wait_for(&self, states: &[u64], timeout: Duration) -> Option<u64> {
        let start = userlib::time::monotonic().unwrap_or_default();
        loop {
            let state = self.read(STATE);
            if states.contains(&state) {
                return Some(state);
            }
            let now = userlib::time::monotonic().unwrap_or_default();
            if now.saturating_sub(start) > timeout {
                return None;
            }
            let _ = userlib::time::sleep(Duration::from_millis(2));
        }
    }
}

/// A buffer imported with `path` (`dma:/[DEV/]import?token=T`).
///
/// # Errors
///
/// As [`Buffer::open`].
pub fn import(path: &str) -> Result<Buffer, Error> {
    Buffer::open(path)
}
