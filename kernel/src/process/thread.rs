//! Threads: several threads of one process share its address space, descriptors and
//! rights (a `clone` in the spirit of Redox's, reduced to what a thread needs).
//!
//! Design: a thread is one more entry in the process table, with its own id (a tid, drawn
//! from the pid counter, so tids and pids never collide), its own scheduling state, kernel
//! stack and context, and `group` naming its process's leader — the first thread, whose id
//! is the pid. What the threads share stays where it always was, in the leader's entry
//! (space, descriptors, parent, children); rights are fixed at spawn, so each thread holds
//! a clone of the process's `Arc`. We chose this over an `Arc`-shared group struct because
//! every path that asks about "the process" already goes through the table under its lock:
//! pointing at the leader changes those paths to one lookup
//! (`Processes::running_process`) and leaves scheduling, waking and parking — which are
//! per thread — exactly as they were.
//!
//! Semantics:
//! - A thread's exit (`SYS_THREAD_EXIT`) ends only it; its status waits for [`join`] by
//!   another thread of the process. The process ends when its last thread stops, with that
//!   thread's status.
//! - `SYS_EXIT`, a fault or a kill from any thread ends the whole process: the first such
//!   status is recorded on the leader (`group_status`), every other thread is marked killed
//!   and woken (as `kill` does) and dies where it would next return to user mode. The last
//!   thread to stop — whichever it is — tears the process down (`lifecycle::exit_current`):
//!   so its space is destroyed and its descriptors closed once, after every other thread
//!   has switched away for good, and never while one of them is running or parked. The
//!   leader's entry then shows `Exited`, and its parent's `waitpid` sees one exit; reaping
//!   it removes every thread entry of the process.
//! - `kill(pid)` names a process and kills all its threads; a tid is not a pid (`ESRCH`
//!   for `kill` and `waitpid`). Scheme servers see the pid in every request, from any
//!   thread; a reply wakes the thread that asked.
//! - At most `kernel_core::abi::MAX_THREADS` threads per process, counting the leader and
//!   threads exited but not yet joined; one more is `EAGAIN`, changing nothing.
//!
//! A thread exited but not joined keeps its kernel stack until joined or until its process
//! is reaped (it cannot free the stack it is running on). One CPU: marking a thread
//! stopped and switching away happen with nothing else running in between.

use super::stack::KernelStack;
use super::{reschedule, with, FirstCode, Process, ProcessId, Start, State};
use crate::arch::Cpu;
use alloc::string::String;
use kernel_core::abi::MAX_THREADS;
use kernel_core::layout::USER_TOP;
use kernel_core::user_mode::UserMode;
use kernel_core::Error;

/// Starts a thread of the running process at `entry` with stack pointer `stack_top` and
/// `argument`, running `first` on its kernel stack first. `TryAgain` at the thread limit
/// or when ids run out, `InvalidArgument` for a bad entry or stack, `OutOfMemory`,
/// `Interrupted` if the process is already ending.
pub fn spawn(
    entry: u64,
    stack_top: u64,
    argument: u64,
    first: FirstCode,
) -> Result<ProcessId, Error> {
    if entry >= USER_TOP || stack_top > USER_TOP || !stack_top.is_multiple_of(16) || stack_top == 0
    {
        return Err(Error::InvalidArgument);
    }
    let (group, name) = with(|table| {
        let group = table.running().group;
        if table.next_id == ProcessId::MAX {
            return Err(Error::TryAgain);
        }
        let threads = table.map.values().filter(|t| t.group == group).count();
        if threads >= MAX_THREADS {
            return Err(Error::TryAgain);
        }
        let leader = table.running_process();
        if leader.group_status.is_some() || leader.space.is_none() {
            return Err(Error::Interrupted);
        }
        let mut name = String::new();
        name.try_reserve_exact(leader.name.len())?;
        name.push_str(&leader.name);
        table.ready.try_reserve(1)?;
        Ok((group, name))
    })?;
    let stack = KernelStack::new().ok_or(Error::OutOfMemory)?;
    let mut context = crate::fallible::try_box(<Cpu as UserMode>::Context::default())?;
    with(|table| {
        // Checked again: the table's lock was dropped to allocate.
        let threads = table.map.values().filter(|t| t.group == group).count();
        let leader = table.map.get(&group).ok_or(Error::Interrupted)?;
        if threads >= MAX_THREADS || table.next_id == ProcessId::MAX {
            return Err(Error::TryAgain);
        }
        if leader.group_status.is_some() {
            return Err(Error::Interrupted);
        }
        let rights = leader.rights.clone();
        let affinity = table.running().affinity;
        table.ready.try_reserve(1)?;
        let id = table.next_id;
        table.next_id += 1;
        Cpu::initialize_context(&mut context, stack.top(), first, id as usize);
        let thread = Process {
            id,
            group,
            group_status: None,
            name,
            parent: None,
            state: State::Ready,
            space: None,
            files: crate::object::FileTable::default(),
            rights,
            kill_requested: false,
            affinity,
            stack: Some(stack),
            context,
            start: Some(Start {
                entry,
                stack_pointer: stack_top,
                arguments: argument,
            }),
        };
        table.map.insert(id, thread);
        table.ready.push_back(id);
        Ok(id)
    })
}

/// Stops the running thread with `status`. With `whole_process` (`SYS_EXIT`, a fault, a
/// kill), the process ends too: the first such status is kept and every other thread is
/// killed. Returns the process's final status if this was its last running thread (the
/// caller then tears the process down), `None` otherwise (the caller switches away for
/// good with [`finish`]).
pub fn stop(status: u64, whole_process: bool) -> Option<u64> {
    with(|table| {
        let me = table.current();
        let group = table.running().group;
        let leader = table
            .map
            .get_mut(&group)
            .expect("a thread's process exists");
        if whole_process && leader.group_status.is_none() {
            leader.group_status = Some(status);
            let others: alloc::vec::Vec<ProcessId> = table
                .map
                .values()
                .filter(|t| t.group == group && t.id != me && !stopped(t.state))
                .map(|t| t.id)
                .collect();
            for id in others {
                if let Some(thread) = table.map.get_mut(&id) {
                    thread.kill_requested = true;
                }
                table.wake_if(id, super::kill::woken_by_kill);
            }
        }
        table.running().state = State::ThreadExited(status);
        table.wake_group_if(group, |state| state == State::Joining(me));
        let live = table
            .map
            .values()
            .any(|t| t.group == group && !stopped(t.state));
        if live {
            return None;
        }
        let leader = &table.map[&group];
        Some(leader.group_status.unwrap_or(status))
    })
}

/// Whether a thread in `state` will never run again.
fn stopped(state: State) -> bool {
    matches!(state, State::ThreadExited(_) | State::Exited(_))
}

/// Switches away for good from a thread [`stop`] found not to be its process's last.
pub fn finish() -> ! {
    reschedule(false);
    unreachable!("a stopped thread was scheduled again");
}

/// Waits for thread `tid` of the running process to exit, frees its slot and returns its
/// status. `NoSuchProcess` if it is not a thread of this process (or was joined already),
/// `InvalidArgument` for the caller itself or the process's first thread, `Interrupted` if
/// the caller is killed meanwhile.
pub fn join(tid: ProcessId) -> Result<u64, Error> {
    loop {
        let outcome = with(|table| {
            let me = table.current();
            let group = table.running().group;
            if tid == me || tid == group {
                return Err(Error::InvalidArgument);
            }
            let thread = table
                .map
                .get(&tid)
                .filter(|t| t.group == group)
                .ok_or(Error::NoSuchProcess)?;
            if let State::ThreadExited(status) = thread.state {
                table.map.remove(&tid);
                return Ok(Some(status));
            }
            table.running().state = State::Joining(tid);
            Ok(None)
        })?;
        if let Some(status) = outcome {
            return Ok(status);
        }
        reschedule(false);
        if super::kill_requested() {
            return Err(Error::Interrupted);
        }
    }
}
