//! Killing another process: who may, and where the target dies.

use super::{exit_current, with, State, IDLE, INIT};
use crate::process::ProcessId;
use kernel_core::abi::EXIT_KILLED;
use log::info;

/// Why [`kill`] refused.
#[derive(Debug, PartialEq, Eq)]
pub enum KillError {
    /// No such process (ESRCH).
    NoProcess,
    /// The caller may not kill it (EPERM): not its parent and no `kills` right naming its
    /// section, or it is init or the idle thread.
    NotPermitted,
}

/// Kills process `target` on behalf of the running process, if it is `target`'s parent or
/// its rights' `kills` names `target`'s section (`Rights::may_kill`).
///
/// The target is marked and, if it is asleep, waiting for a request or for a child, woken;
/// it then exits with [`EXIT_KILLED`] where it would next return to user mode
/// ([`exit_if_killed`]), after its system call has let go of everything it held. A target
/// waiting for a scheme server's reply is left waiting: it dies when the reply (or the
/// server's death) arrives, so the server's answer still lands in its descriptor table and
/// is released with it.
pub fn kill(target: ProcessId) -> Result<(), KillError> {
    with(|table| {
        let killer = table.current;
        let allowed = {
            let rights = &table.map.get(&killer).ok_or(KillError::NoProcess)?.rights;
            let victim = table.map.get(&target).ok_or(KillError::NoProcess)?;
            target != INIT
                && target != IDLE
                && (victim.parent == Some(killer) || rights.may_kill(&victim.rights))
        };
        if !allowed {
            return Err(KillError::NotPermitted);
        }
        let victim = table.map.get_mut(&target).ok_or(KillError::NoProcess)?;
        if matches!(victim.state, State::Exited(_)) {
            return Ok(());
        }
        victim.kill_requested = true;
        info!(
            "process {} ({target}) killed by process {killer}",
            victim.name
        );
        table.wake_if(target, |state| {
            matches!(
                state,
                State::Sleeping(_) | State::WaitingForRequest | State::WaitingForChild
            )
        });
        Ok(())
    })
}

/// Whether someone killed the running process ([`kill`]); a blocking wait that finds this
/// after waking gives up with `EINTR` so the process can die on its way out.
pub fn kill_requested() -> bool {
    with(|table| {
        let current = table.current;
        table
            .map
            .get(&current)
            .is_some_and(|process| process.kill_requested)
    })
}

/// Ends the running process with [`EXIT_KILLED`] if someone killed it. Called only where it
/// holds nothing: at the end of a system call and after a timer tick from user mode.
pub fn exit_if_killed() {
    if kill_requested() {
        exit_current(EXIT_KILLED);
    }
}
