//! The children init started: who they are, reaping them, restarting services that die, and
//! whether all went well.
//!
//! Supervision: a **service** (a process whose manifest section grants `schemes`, like dmad)
//! that ends any way but exit status 0 is started again at once, from the same section (so
//! with the same rights, path and arguments), and init waits for its schemes as at boot.
//! What the service set up at start-up it sets up again itself: dmad re-reads
//! `memory:pools` and re-declares every pool, whole — the kernel revoked every buffer
//! mapping the dead dmad had lent, so no client still reaches pool memory and nothing is
//! owed to the old instance. Restarting is init's job alone; nobody else may restart a
//! service (a process without the section's rights cannot even start a useful dmad).
//!
//! A service is restarted at most [`RESTART_LIMIT`] times, so one that dies at start-up
//! does not loop for ever; after that it stays dead (an error, and in a test image a failed
//! run). A death followed by a successful restart is logged as a warning but is not a
//! failure of the run: tests kill dmad on purpose. A service that exits with status 0 chose
//! to stop (dmad does when the kernel offers no `memory:`) and is not restarted.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;
use log::{error, info, warn};
use userlib::sys::{self, error::ECHILD, Ending};
use userlib::time;

/// How long init rests when it has no child to wait for.
const IDLE: Duration = Duration::from_secs(1);

/// How many times one service is restarted at most.
pub const RESTART_LIMIT: usize = 16;

/// What init needs to start a process again: its manifest section's name (whose rights it
/// gets), path, arguments and schemes (empty for a process that is not a service).
#[derive(Clone, Debug)]
pub struct Launch {
    /// The manifest section.
    pub name: String,
    /// The initfs program.
    pub path: String,
    /// Its arguments.
    pub arguments: Vec<String>,
    /// The schemes it serves (a service is waited for until they appear).
    pub schemes: Vec<String>,
}

impl Launch {
    /// The launch for a manifest section.
    pub fn from_declaration(declaration: &image::manifest::ProcessDeclaration<'_>) -> Self {
        Launch {
            name: declaration.name.to_string(),
            path: declaration.path.to_string(),
            arguments: declaration
                .args
                .clone()
                .map(|text| text.to_string())
                .collect(),
            schemes: declaration.schemes.clone().map(String::from).collect(),
        }
    }

    /// Whether it is a service: one that serves until the machine stops.
    fn is_service(&self) -> bool {
        !self.schemes.is_empty()
    }
}

/// One child init started and has not reaped.
struct Child {
    pid: usize,
    launch: Launch,
    /// How many times it was restarted so far.
    restarts: usize,
}

/// The processes init started and has not reaped, and a count of what went wrong.
#[derive(Default)]
pub struct Children {
    running: Vec<Child>,
    failures: usize,
}

impl Children {
    /// Spawns `launch` with the rights of its manifest section, logs it, and for a service
    /// waits until its schemes are registered.
    pub fn spawn(&mut self, launch: Launch) {
        self.start(launch, 0);
    }

    fn start(&mut self, launch: Launch, restarts: usize) {
        let Launch { name, path, .. } = &launch;
        info!("starting {name} ({path})");
        let arguments: Vec<&str> = launch.arguments.iter().map(String::as_str).collect();
        match sys::spawn_with_rights(path, &arguments, name) {
            Ok(pid) => {
                for scheme in launch.schemes.iter().filter(|scheme| *scheme != "memory") {
                    wait_for_scheme(scheme);
                }
                self.running.push(Child {
                    pid,
                    launch,
                    restarts,
                });
            }
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

    /// Whether every process started and every reaped child exited with status 0 (or, for
    /// a service, was restarted).
    pub fn all_succeeded(&self) -> bool {
        self.failures == 0
    }

    /// Waits until every child init started has ended, services (which serve until the
    /// machine stops) excepted; services that die meanwhile are restarted.
    pub fn reap_all(&mut self) {
        while self.running.iter().any(|child| !child.launch.is_service()) {
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

    /// Reaps children as they end, restarting services, for ever.
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

    /// Waits for any child, logs how it ended, and restarts it if it is a service that
    /// died; forgets it otherwise.
    fn reap_one(&mut self) -> sys::Result<()> {
        let (pid, status) = sys::waitpid(0, false)?;
        let ending = Ending::from_status(status);
        let Some(index) = self.running.iter().position(|child| child.pid == pid) else {
            log_ending(&format!("process {pid}"), ending);
            return Ok(());
        };
        let child = self.running.remove(index);
        let name = child.launch.name.as_str();
        log_ending(name, ending);
        if ending.is_success() {
            return Ok(());
        }
        if !child.launch.is_service() {
            self.failures += 1;
            return Ok(());
        }
        if child.restarts >= RESTART_LIMIT {
            error!("{name} died {RESTART_LIMIT} times after starting; not restarting it again");
            self.failures += 1;
            return Ok(());
        }
        let restarts = child.restarts + 1;
        warn!("restarting {name} (restart {restarts} of at most {RESTART_LIMIT})");
        self.start(child.launch, restarts);
        Ok(())
    }
}

/// Logs how child `name` ended.
fn log_ending(name: &str, ending: Ending) {
    match ending {
        Ending::Exited(0) => info!("{name} exited with status 0"),
        Ending::Exited(status) => warn!("{name} exited with status {status}"),
        Ending::Killed => warn!("{name} was killed"),
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
