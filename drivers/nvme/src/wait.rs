//! How the driver waits for a completion: one small trait, so that moving from polling to
//! interrupts changes only which [`CompletionWait`] `main.rs` builds.
//!
//! Today coherent cannot deliver interrupts to processes, so [`Polling`] is the only
//! implementation: it checks the completion queue's phase bit, spinning briefly and then
//! yielding the CPU between checks, until a deadline. The controller is nevertheless set
//! up for interrupts (the I/O completion queue is created with interrupts enabled on
//! vector 0), so an `irq:` waiter needs no controller change. It would be:
//!
//! ```ignore
//! struct Interrupts { fd: usize }            // open("irq:nvme0")
//! impl CompletionWait for Interrupts {
//!     fn mode(&self) -> &'static str { "interrupts (irq:nvme0)" }
//!     fn wait_until(&mut self, ready: &mut dyn FnMut() -> bool, _patience: Duration)
//!         -> Result<(), TimedOut> {
//!         while !ready() {
//!             let mut count = [0u8; 8];
//!             sys::read(self.fd, &mut count).map_err(|_| TimedOut)?; // blocks
//!             let _ = sys::write(self.fd, &count);                   // acknowledge, re-arm
//!         }
//!         Ok(())
//!     }
//! }
//! ```

use core::time::Duration;
use userlib::time;

/// The deadline passed with nothing completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimedOut;

/// A way to wait for the controller.
pub trait CompletionWait {
    /// The mode, for the boot log (`polling`, `interrupts ...`).
    fn mode(&self) -> &'static str;

    /// Returns once `ready` says so, or fails after `patience`.
    ///
    /// # Errors
    ///
    /// [`TimedOut`] when `patience` passed first.
    fn wait_until(
        &mut self,
        ready: &mut dyn FnMut() -> bool,
        patience: Duration,
    ) -> Result<(), TimedOut>;
}

/// Checks this many times without yielding before it starts to yield between checks (a
/// completion under TCG usually arrives within a few microseconds).
const SPINS: u32 = 64;

/// Polls: spins, then yields between checks.
#[derive(Clone, Copy, Debug, Default)]
pub struct Polling;

impl CompletionWait for Polling {
    fn mode(&self) -> &'static str {
        "polling the completion queue's phase bit (no irq: scheme yet)"
    }

    fn wait_until(
        &mut self,
        ready: &mut dyn FnMut() -> bool,
        patience: Duration,
    ) -> Result<(), TimedOut> {
        for _ in 0..SPINS {
            if ready() {
                return Ok(());
            }
            core::hint::spin_loop();
        }
        let start = time::monotonic().map_err(|_| TimedOut)?;
        loop {
            if ready() {
                return Ok(());
            }
            if time::monotonic().map_err(|_| TimedOut)? - start > patience {
                return if ready() { Ok(()) } else { Err(TimedOut) };
            }
            let _ = userlib::sys::sched_yield();
        }
    }
}
