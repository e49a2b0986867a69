//! A scheme's table of open handles: number → state, with fallible growth.
//!
//! Numbers are slot indexes, reused after close (a handle is only ever named by the one
//! `OpenFile` that holds it, which is closed exactly once). Growing the table asks the heap
//! first, so a dry kernel heap refuses an `open` with `ENOMEM` instead of panicking. Each
//! table has its own lock, taken last (see the lock order in the crate doc) and never held
//! across a call out of the scheme.

use alloc::vec::Vec;
use kernel_core::Error;
use spin::Mutex;

/// Open handles of one scheme.
pub struct Handles<T> {
    slots: Mutex<Vec<Option<T>>>,
}

impl<T> Handles<T> {
    /// An empty table.
    pub const fn new() -> Self {
        Handles {
            slots: Mutex::new(Vec::new()),
        }
    }

    /// Stores `state` under a free number.
    pub fn insert(&self, state: T) -> Result<u64, Error> {
        let mut slots = self.slots.lock();
        if let Some(index) = slots.iter().position(Option::is_none) {
            slots[index] = Some(state);
            return Ok(index as u64);
        }
        slots.try_reserve(1)?;
        slots.push(Some(state));
        Ok(slots.len() as u64 - 1)
    }

    /// Runs `body` on handle `number`'s state; `EBADF` if there is none.
    pub fn with<R>(&self, number: u64, body: impl FnOnce(&mut T) -> R) -> Result<R, Error> {
        let mut slots = self.slots.lock();
        let slot = usize::try_from(number)
            .ok()
            .and_then(|index| slots.get_mut(index))
            .and_then(Option::as_mut)
            .ok_or(Error::BadDescriptor)?;
        Ok(body(slot))
    }

    /// Takes handle `number`'s state out.
    pub fn remove(&self, number: u64) -> Option<T> {
        let mut slots = self.slots.lock();
        slots.get_mut(usize::try_from(number).ok()?)?.take()
    }
}

impl<T> Default for Handles<T> {
    fn default() -> Self {
        Self::new()
    }
}
