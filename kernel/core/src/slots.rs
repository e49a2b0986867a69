//! Numbered slots: a table that hands out the lowest free number, holds at most a fixed
//! number of entries, and grows only with the heap's consent.
//!
//! The kernel's descriptor tables and every scheme's handle table are one of these. A full
//! table and a heap that cannot grow it are refused with an [`Error`], giving the value
//! back, so the caller can undo whatever the value stands for outside its locks.

use crate::Error;
use alloc::vec::Vec;

/// Entries numbered from 0.
#[derive(Debug)]
pub struct Slots<T> {
    slots: Vec<Option<T>>,
    limit: usize,
}

impl<T> Slots<T> {
    /// An empty table that holds at most `limit` entries.
    pub const fn new(limit: usize) -> Self {
        Slots {
            slots: Vec::new(),
            limit,
        }
    }

    /// Stores `value` under the lowest free number. `TooManyFiles` at the limit,
    /// `OutOfMemory` when the heap refuses to grow the table; either way `value` comes back.
    pub fn insert(&mut self, value: T) -> Result<usize, (T, Error)> {
        if let Some(index) = self.slots.iter().position(Option::is_none) {
            self.slots[index] = Some(value);
            return Ok(index);
        }
        if self.slots.len() >= self.limit {
            return Err((value, Error::TooManyFiles));
        }
        if self.slots.try_reserve(1).is_err() {
            return Err((value, Error::OutOfMemory));
        }
        self.slots.push(Some(value));
        Ok(self.slots.len() - 1)
    }

    /// The entry numbered `number`.
    pub fn get(&self, number: usize) -> Option<&T> {
        self.slots.get(number)?.as_ref()
    }

    /// The entry numbered `number`, to change.
    pub fn get_mut(&mut self, number: usize) -> Option<&mut T> {
        self.slots.get_mut(number)?.as_mut()
    }

    /// Takes the entry numbered `number` out; its number is free again.
    pub fn remove(&mut self, number: usize) -> Option<T> {
        self.slots.get_mut(number)?.take()
    }

    /// Takes every entry out, in number order, leaving the table empty.
    pub fn take_all(&mut self) -> impl Iterator<Item = T> {
        core::mem::take(&mut self.slots).into_iter().flatten()
    }
}

#[cfg(test)]
mod tests;
