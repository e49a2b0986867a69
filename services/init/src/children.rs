//! The children init started: who they are, reaping them, and whether all went well.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;
use log::{error, info, warn};
use userlib::sys::{self, error::ECHILD, Ending};
use userlib::time;

/// How long init rests when it has no child to wait for.
const IDLE: Duration = Duration::from_secs(1);

/// The processes init started and have not been reaped (pid, name, whether it is a service),
/// and a count of what went wrong.
#[derive(Default)]
pub struct Children {
    running: Vec<(usize, String, bool)>,
    failures: usize,
}

impl Children {
    /// Spawns `path` with `arguments` as process `name`, with the rights of the manifest
    /// section of that name, logging it. A `service` (a process that serves schemes) is not
    /// waited for at the end of a test run.
    pub fn spawn(&mut self, name: &str, path: &str, arguments: &[&str], service: bool) {
        info!("starting {name} ({path})");
        match sys::spawn_with_rights(path, arguments, name) {
            Ok(pid) => self.running.push((pid, name.to_string(), service)),
            Err(error) => {
                error!("cannot start {name} ({path}): {error}");
                self.failures += 1;
            }
        }
    }

    /// Counts a problem that did not come from a child's ending.
    pub fn note_failure(&mut self) {
        self.failures += 1;
    }

    /// Whether every process started and every reaped child exited with status 0.
    pub fn all_succeeded(&self) -> bool {
        self.failures == 0
    }

    /// Waits until every child init started has ended, services (which serve until the
    /// machine stops) excepted.
    pub fn reap_all(&mut self) {
        while self.running.iter().any(|(_, _, service)| !service) {
            if let Err(error) = self.reap_one() {
                error!(
                    "waitpid failed with {} children left: {error}",
                    self.running.len()
                );
                self.failures += self.running.len();
                return;
            }
        }
    }

    /// Reaps children as they end, for ever.
    pub fn reap_forever(&mut self) -> ! {
        loop {
            match self.reap_one() {
                Ok(()) => {}
                Err(error) => {
                    if error.errno != ECHILD {
                        error!("waitpid failed: {error}");
                    }
                    // Nothing to wait for (or waiting fails): rest rather than spin.
                    let _ = time::sleep(IDLE);
                }
            }
        }
    }

    /// Waits for any child, logs how it ended and forgets it.
    fn reap_one(&mut self) -> sys::Result<()> {
        let (pid, status) = sys::waitpid(0, false)?;
        let name = match self.running.iter().position(|(child, _, _)| *child == pid) {
            Some(index) => self.running.remove(index).1,
            None => format!("process {pid}"),
        };
        let ending = Ending::from_status(status);
        match ending {
            Ending::Exited(0) => info!("{name} exited with status 0"),
            Ending::Exited(status) => warn!("{name} exited with status {status}"),
            Ending::Killed => warn!("{name} was killed"),
        }
        if !ending.is_success() {
            self.failures += 1;
        }
        Ok(())
    }
}

/// Waits until `sys:schemes` lists `scheme` (a service just started registers it), for at
/// most five seconds.
pub fn wait_for_scheme(scheme: &str) {
    for _ in 0..500 {
        if let Ok(text) = sys::read_file("sys:schemes") {
            let listed = core::str::from_utf8(&text)
                .unwrap_or("")
                .lines()
                .any(|line| line.split_whitespace().next() == Some(scheme));
            if listed {
                return;
            }
        }
        let _ = time::sleep(Duration::from_millis(10));
    }
    error!("scheme {scheme} did not appear within 5 s; starting the next process anyway");
}
