//! Wait queues: processes parked until an event, for schemes whose requests wait (an
//! `irq:` read until the interrupt, a sender until a server's queue has room), and for
//! `SYS_WAIT_ANY` ([`READINESS`]), which may also give up at a deadline.
//!
//! The kernel runs on one CPU with interrupts masked, so nothing can happen between checking
//! a condition and parking: [`WaitQueue::wait_until`] checks, parks, and checks again on every
//! wake. The queue's own lock is taken and released before the process table's, never held
//! while anything else is taken.

use super::{current_thread, kill_requested, reschedule, with, ProcessId, State};
use crate::arch::Cpu;
use alloc::vec::Vec;
use kernel_core::user_mode::UserMode;
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
    pub fn wait_until<R>(&self, ready: impl FnMut() -> Option<R>) -> Result<R, Error> {
        // Without a deadline the wait only ends when `ready` gives something.
        self.wait_until_deadline(None, ready)?
            .ok_or(Error::TimedOut)
    }

    /// As [`WaitQueue::wait_until`], but gives up with `Ok(None)` once the monotonic clock
    /// reaches `deadline` (nanoseconds; `None`: never). The tick wakes a waiter whose
    /// deadline passed (`State::WaitingOnQueueUntil`).
    pub fn wait_until_deadline<R>(
        &self,
        deadline: Option<u64>,
        mut ready: impl FnMut() -> Option<R>,
    ) -> Result<Option<R>, Error> {
        loop {
            if let Some(value) = ready() {
                return Ok(Some(value));
            }
            let me = current_thread();
            if kill_requested() {
                self.waiters.lock().retain(|waiter| *waiter != me);
                return Err(Error::Interrupted);
            }
            if deadline.is_some_and(|deadline| Cpu::monotonic_nanoseconds() >= deadline) {
                self.waiters.lock().retain(|waiter| *waiter != me);
                return Ok(None);
            }
            {
                let mut waiters = self.waiters.lock();
                if !waiters.contains(&me) {
                    waiters.try_reserve(1)?;
                    waiters.push(me);
                }
            }
            let state = deadline.map_or(State::WaitingOnQueue, State::WaitingOnQueueUntil);
            with(|table| table.running().state = state);
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
                table.wake_if(id, |state| {
                    matches!(state, State::WaitingOnQueue | State::WaitingOnQueueUntil(_))
                });
            }
        });
    }
}

/// Processes in `SYS_WAIT_ANY`: woken by every event that may make some handle ready in the
/// sense of `object::Scheme::ready` (a request queued at a server, a device interrupt), so
/// a waiter on several kinds of handle needs only this one queue. Each checks its own
/// handles again.
pub static READINESS: WaitQueue = WaitQueue::new();

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}
