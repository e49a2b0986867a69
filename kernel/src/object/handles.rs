//! A scheme's table of open handles: number → state, with fallible growth.
//!
//! Numbers are slot indexes (`kernel_core::slots`, host-tested), reused after close (a handle is only ever named by the one
//! `OpenFile` that holds it, which is closed exactly once). Growing the table asks the heap
//! first, so a dry kernel heap refuses an `open` with `ENOMEM` instead of panicking. Each
//! table has its own lock, taken last (see the lock order in the crate doc) and never held
//! across a call out of the scheme.

use kernel_core::slots::Slots;
use kernel_core::Error;
use spin::Mutex;

/// Open handles of one scheme.
pub struct Handles<T> {
    slots: Mutex<Slots<T>>,
}

impl<T> Handles<T> {
    /// An empty table (bounded in practice by the descriptors that name its handles).
    pub const fn new() -> Self {
        Handles {
            slots: Mutex::new(Slots::new(usize::MAX)),
        }
    }

    /// Stores `state` under a free number (`ENOMEM` if the heap refuses).
    pub fn insert(&self, state: T) -> Result<u64, Error> {
        self.slots
            .lock()
            .insert(state)
            .map(|number| number as u64)
            .map_err(|(_, error)| error)
    }

    /// Runs `body` on handle `number`'s state; `EBADF` if there is none.
    pub fn with<R>(&self, number: u64, body: impl FnOnce(&mut T) -> R) -> Result<R, Error> {
        let mut slots = self.slots.lock();
        let state = usize::try_from(number)
            .ok()
            .and_then(|number| slots.get_mut(number))
            .ok_or(Error::BadDescriptor)?;
        Ok(body(state))
    }

    /// Takes handle `number`'s state out.
    pub fn remove(&self, number: u64) -> Option<T> {
        self.slots.lock().remove(usize::try_from(number).ok()?)
    }
}

impl<T> Default for Handles<T> {
    fn default() -> Self {
        Self::new()
    }
}
