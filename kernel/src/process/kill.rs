//! Killing another process: who may, and marking it. Where it dies is `lifecycle`'s
//! (`lifecycle::exit_if_killed`): the end of a system call, after a timer tick from user
//! mode, or its first code, before any user instruction.

use super::{with, ProcessId, State, IDLE, INIT};
use kernel_core::Error;
use log::info;

/// Kills process `target` (every thread of it; a tid is `NoSuchProcess`) on behalf of the
/// running process, if it is `target`'s parent or
/// its rights' `kills` names `target`'s section (`Rights::may_kill`). `NoSuchProcess` when
/// there is no such process; `NotPermitted` otherwise, and always for init and the idle
/// thread. A target that has already exited is left as it is.
///
/// Every thread of the target is marked and woken: a wait (sleep, a request, a child, a
/// wait queue, a join) gives up with `Error::Interrupted`, and the thread exits with
/// `EXIT_KILLED` where it would next return to user mode, after its system call has let go
/// of everything it held. A thread waiting for a scheme server's reply waits on: it dies
/// when the reply (or the server's death) arrives, so the server's answer still lands in
/// its descriptor table and is released with it — unless its own process serves that
/// scheme, when no answer would come (`ipc::request` gives up).
pub fn kill(target: ProcessId) -> Result<(), Error> {
    with(|table| {
        let killer = table.running().group;
        let allowed = {
            let rights = &table
                .map
                .get(&table.current())
                .ok_or(Error::NoSuchProcess)?
                .rights;
            let victim = table
                .map
                .get(&target)
                .filter(|victim| victim.group == target)
                .ok_or(Error::NoSuchProcess)?;
            target != INIT
                && target != IDLE
                && (victim.parent == Some(killer) || rights.may_kill(&victim.rights))
        };
        if !allowed {
            return Err(Error::NotPermitted);
        }
        let victim = table.map.get_mut(&target).ok_or(Error::NoSuchProcess)?;
        if matches!(victim.state, State::Exited(_)) {
            return Ok(());
        }
        info!(
            "process {} ({target}) killed by process {killer}",
            victim.name
        );
        // Every thread of it: each dies where it would next return to user mode.
        let threads: alloc::vec::Vec<ProcessId> = table
            .map
            .values()
            .filter(|thread| thread.group == target)
            .map(|thread| thread.id)
            .collect();
        for id in threads {
            if let Some(thread) = table.map.get_mut(&id) {
                thread.kill_requested = true;
            }
            table.wake_if(id, woken_by_kill);
        }
        Ok(())
    })
}

/// Whether a thread in `state` is woken by a kill: every wait. Each gives up with
/// `Interrupted`, except a wait for a scheme reply, which checks again and waits on unless
/// its own process serves the scheme (see `ipc::request`).
pub(super) fn woken_by_kill(state: State) -> bool {
    state == State::WaitingForReply || interruptible(state)
}

/// Whether a wait in `state` gives up with `Interrupted` when its thread is killed.
fn interruptible(state: State) -> bool {
    matches!(
        state,
        State::Sleeping(_)
            | State::WaitingForRequest
            | State::WaitingForChild
            | State::WaitingOnQueue
            | State::WaitingOnQueueUntil(_)
            | State::Joining(_)
    )
}

/// Whether someone killed the running process ([`kill`]); a blocking wait that finds this
/// gives up with `Error::Interrupted` so the process can die on its way out.
pub fn kill_requested() -> bool {
    with(|table| {
        let current = table.current();
        table
            .map
            .get(&current)
            .is_some_and(|process| process.kill_requested)
    })
}
