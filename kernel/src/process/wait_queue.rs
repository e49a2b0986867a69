//! Wait queues: processes parked until an event, for schemes whose requests wait (an
//! `irq:` read until the interrupt, a sender until a server's queue has room).
//!
//! The kernel runs on one CPU with interrupts masked, so nothing can happen between checking
//! a condition and parking: [`WaitQueue::wait_until`] checks, parks, and checks again on every
//! wake. The queue's own lock is taken and released before the process table's, never held
//! while anything else is taken.

use super::{current, kill_requested, reschedule, with, ProcessId, State};
use alloc::vec::Vec;
use kernel_core::Error;
use spin::Mutex;

/// Processes waiting for one kind of event.
pub struct WaitQueue {
    waiters: Mutex<Vec<ProcessId>>,
}

impl WaitQueue {
    /// An empty queue.
    pub const fn new() -> Self {
        WaitQueue {
            waiters: Mutex::new(Vec::new()),
        }
    }

    /// Parks the running process until `ready` returns `Some`, and returns that. `ready` runs
    /// with no lock of this queue held. `ENOMEM` if the heap cannot hold one more waiter;
    /// `Interrupted` if the process was killed (`super::kill`) and `ready` still says no.
    pub fn wait_until<R>(&self, mut ready: impl FnMut() -> Option<R>) -> Result<R, Error> {
        loop {
            if let Some(value) = ready() {
                return Ok(value);
            }
            if kill_requested() {
                return Err(Error::Interrupted);
            }
            let me = current();
            {
                let mut waiters = self.waiters.lock();
                if !waiters.contains(&me) {
                    waiters.try_reserve(1)?;
                    waiters.push(me);
                }
            }
            with(|table| table.running().state = State::WaitingOnQueue);
            reschedule(false);
        }
    }

    /// Wakes every waiter; each checks its condition again.
    pub fn wake_all(&self) {
        let waiters = core::mem::take(&mut *self.waiters.lock());
        if waiters.is_empty() {
            return;
        }
        with(|table| {
            for id in waiters {
                table.wake_if(id, |state| state == State::WaitingOnQueue);
            }
        });
    }
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}
