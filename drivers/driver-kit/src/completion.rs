//! Waiting for a device's completions: by interrupt (`irq:NAME`), or by polling as the
//! logged fallback — the one waiting loop both block drivers use.
//!
//! Interrupt mode: after submitting a command the driver waits (`sys::wait_any`) on its
//! `irq:` descriptor and, while serving, its scheme socket together. A request arriving
//! meanwhile is read at once and handled after the current one ([`Requests::stash`]); an
//! interrupt is taken (`read`), the device's own interrupt state cleared and the completion
//! looked for (the caller's `clear` and `done`; a level-triggered line must be deasserted
//! before it is unmasked), then acknowledged (`write`), which unmasks the line. If no
//! interrupt comes within [`INTERRUPT_PATIENCE`], the device is polled once and a found
//! completion is counted as `polled` (the log says so the first time).
//!
//! Polling mode — when `irq:` cannot be opened (no grant, no routable interrupt) or the
//! device cannot route its completions to it — spins briefly, then yields between checks;
//! the log names the fallback and why once, at start.

use alloc::format;
use alloc::string::String;
use core::time::Duration;
use log::{info, warn};
use userlib::server::Requests;
use userlib::sys::{self, Interrupt};
use userlib::time;

/// How long the driver waits for an interrupt before it polls the device once.
pub const INTERRUPT_PATIENCE: Duration = Duration::from_secs(2);

/// Checks this many times without yielding before polling starts to yield between checks
/// (a completion under TCG usually arrives within a few microseconds).
const SPINS: u32 = 64;

/// The deadline passed with nothing completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimedOut;

/// What a driver counts for `disk:/status` (`disk_api::status`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Interrupts taken.
    pub interrupts: u64,
    /// Commands the device completed.
    pub completions: u64,
    /// Completions found by polling after an interrupt did not come.
    pub polled: u64,
    /// Interrupts a previous driver left unacknowledged, taken at start.
    pub inherited: u64,
}

/// How a driver learns of completions.
pub struct Completions {
    device: String,
    interrupt: Option<Interrupt>,
    /// The counters.
    pub counters: Counters,
}

impl Completions {
    /// Takes `device`'s interrupt (`irq:DEVICE`) if it can, else polls and logs why.
    pub fn open(device: &str) -> Self {
        let mut completions = Completions::polling(device);
        match Interrupt::open(device) {
            Ok(interrupt) => completions.interrupt = Some(interrupt),
            Err(error) => warn!(
                "{device}: no interrupt (irq:{device}: {error}); polling completions (fallback)"
            ),
        }
        completions
    }

    /// Polling from the start.
    pub fn polling(device: &str) -> Self {
        Completions {
            device: device.into(),
            interrupt: None,
            counters: Counters::default(),
        }
    }

    /// Gives the interrupt up (the device cannot route its completions to it) and polls;
    /// the log says why.
    pub fn fall_back(&mut self, reason: &str) {
        if self.interrupt.take().is_some() {
            warn!("{}: {reason}; polling completions (fallback)", self.device);
        }
    }

    /// The held interrupt, if the driver runs interrupt-driven.
    pub fn interrupt(&self) -> Option<&Interrupt> {
        self.interrupt.as_ref()
    }

    /// Takes an interrupt a previous driver died without acknowledging (its line is still
    /// masked with it pending), after `clear` has cleared the device's own state.
    pub fn take_inherited(&mut self, clear: impl FnOnce()) {
        let Some(interrupt) = &self.interrupt else {
            return;
        };
        if sys::wait_any(&[interrupt.descriptor()], Some(Duration::ZERO)).is_err() {
            return;
        }
        if let Ok(count) = interrupt.wait() {
            clear();
            let _ = interrupt.acknowledge(count);
            self.counters.inherited += 1;
            info!(
                "{}: took interrupt {count} a previous driver left unacknowledged",
                self.device
            );
        }
    }

    /// `interrupt` or `polling`.
    pub fn mode(&self) -> &'static str {
        if self.interrupt.is_some() {
            "interrupt"
        } else {
            "polling"
        }
    }

    /// The `disk:/status` text, with `stashed` requests.
    pub fn status_text(&self, stashed: u64) -> String {
        let counters = self.counters;
        format!(
            "mode {}\ninterrupts {}\ncompletions {}\npolled {}\nstashed {}\ninherited {}\n",
            self.mode(),
            counters.interrupts,
            counters.completions,
            counters.polled,
            stashed,
            counters.inherited
        )
    }

    /// Returns once `done` says the awaited completion has come, or fails after
    /// `patience`. On each interrupt `clear` runs before `done`, and both before the
    /// acknowledgement; `requests` (while serving) are stashed as they arrive.
    ///
    /// # Errors
    ///
    /// [`TimedOut`] when `patience` passed first.
    pub fn wait(
        &mut self,
        requests: Option<&mut Requests>,
        patience: Duration,
        clear: &mut dyn FnMut(),
        done: &mut dyn FnMut() -> bool,
    ) -> Result<(), TimedOut> {
        let Some(interrupt) = &self.interrupt else {
            poll(patience, done)?;
            self.counters.completions += 1;
            return Ok(());
        };
        let start = time::monotonic().map_err(|_| TimedOut)?;
        let mut requests = requests;
        loop {
            let mut sources = [interrupt.descriptor(), 0];
            let count = match &requests {
                Some(requests) => {
                    sources[1] = requests.socket();
                    2
                }
                None => 1,
            };
            match sys::wait_any(&sources[..count], Some(INTERRUPT_PATIENCE)) {
                Ok(0) => {
                    let Ok(number) = interrupt.wait() else {
                        continue;
                    };
                    self.counters.interrupts += 1;
                    clear();
                    let finished = done();
                    if let Err(error) = interrupt.acknowledge(number) {
                        warn!("cannot acknowledge interrupt {number}: {error}");
                    }
                    if finished {
                        self.counters.completions += 1;
                        return Ok(());
                    }
                }
                Ok(_) => {
                    if let Some(requests) = requests.as_deref_mut() {
                        if let Err(error) = requests.stash() {
                            warn!("reading a request while waiting: {error}");
                        }
                    }
                }
                Err(_) if done() => {
                    if self.counters.polled == 0 {
                        warn!(
                            "{}: no interrupt within {} s of a completion; polled the device \
                             (fallback)",
                            self.device,
                            INTERRUPT_PATIENCE.as_secs()
                        );
                    }
                    self.counters.polled += 1;
                    self.counters.completions += 1;
                    return Ok(());
                }
                Err(_) => {
                    if time::monotonic().map_err(|_| TimedOut)? - start > patience {
                        return Err(TimedOut);
                    }
                }
            }
        }
    }
}

/// Polls `done`: spins, then yields between checks, until `patience` passed.
fn poll(patience: Duration, done: &mut dyn FnMut() -> bool) -> Result<(), TimedOut> {
    for _ in 0..SPINS {
        if done() {
            return Ok(());
        }
        core::hint::spin_loop();
    }
    let start = time::monotonic().map_err(|_| TimedOut)?;
    loop {
        if done() {
            return Ok(());
        }
        if time::monotonic().map_err(|_| TimedOut)? - start > patience {
            return if done() { Ok(()) } else { Err(TimedOut) };
        }
        let _ = sys::sched_yield();
    }
}
