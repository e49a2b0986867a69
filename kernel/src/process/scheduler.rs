//! Round-robin scheduling on every CPU: the run queue, switching, the tick (which also wakes
//! wait-queue waiters whose deadline passed) and the idle loop.
//!
//! One run queue serves every CPU: under the big kernel lock (`crate::smp`) a per-CPU queue
//! would buy no parallelism, and one queue is balanced by construction — a CPU takes the
//! oldest ready process, whichever CPU woke it, and an idle CPU is sent an IPI
//! (`smp::BigLock::unlock`) when work becomes ready, so a woken process goes to an idle CPU when
//! there is one. A process is on at most one CPU: it is picked only from the queue in state
//! `Ready`, and it leaves `Running` (and joins the queue) only under the big lock, which the
//! CPU switching it out holds until its context is saved. Each CPU has its own idle thread
//! (its boot stack), whose context lives in `Processes::idle_contexts`.
//!
//! Affinity (`SYS_SET_AFFINITY`): each process carries a mask of the CPUs it may run on. A CPU
//! takes the oldest ready entry whose mask names it and skips the others, which keep their
//! place; the scheduler publishes the union of the queued masks (`smp::set_ready`) so the
//! idle CPU woken for queued work is one that may run some of it.

use super::{with, State, IDLE};
use crate::arch::Cpu;
use crate::memory::kernel_space;
use kernel_core::user_mode::UserMode;

/// Switches to the next ready process (or idle). With `requeue`, the running process goes
/// to the back of the queue first (a yield or a preemption); without, it must already have
/// left `Running` (it blocked or exited). Returns when something switches back to it.
pub fn reschedule(requeue: bool) {
    let switch = with(|table| {
        let cpu = crate::smp::this_cpu();
        let current = table.current();
        if requeue && current != IDLE {
            if let Some(process) = table.map.get_mut(&current) {
                if process.state == State::Running {
                    process.state = State::Ready;
                    table.ready.push_back(current);
                }
            }
        }
        // The oldest ready entry this CPU may run (its affinity mask names this CPU); entries
        // no longer ready are dropped, entries pinned elsewhere stay in order for their CPUs.
        let me = 1u64 << cpu;
        let mut index = 0;
        let mut picked = None;
        while index < table.ready.len() {
            let id = table.ready[index];
            match table.map.get(&id) {
                Some(process) if process.state == State::Ready => {
                    if process.affinity & me != 0 {
                        picked = table.ready.remove(index);
                        break;
                    }
                    index += 1;
                }
                _ => {
                    table.ready.remove(index);
                }
            }
        }
        let next = match picked {
            Some(id) => id,
            None if table
                .map
                .get(&current)
                .is_some_and(|process| process.state == State::Running) =>
            {
                crate::smp::set_ready(table.ready.len(), table.waiting_cpus());
                return None;
            }
            None => IDLE,
        };
        crate::smp::set_ready(table.ready.len(), table.waiting_cpus());
        if next == current {
            table.running().state = State::Running;
            return None;
        }

        let from: *mut <Cpu as UserMode>::Context = if current == IDLE {
            &mut table.idle_contexts[cpu]
        } else {
            &mut *table.map.get_mut(&current).expect("current exists").context
        };
        let target = table.map.get_mut(&next).expect("next exists");
        if next != IDLE {
            target.state = State::Running;
        }
        let to: *const <Cpu as UserMode>::Context = if next == IDLE {
            &table.idle_contexts[cpu]
        } else {
            &*target.context
        };
        let stack_top = target.stack.as_ref().map(|stack| stack.top());
        // A thread runs in its process's space, which its leader's entry holds.
        let group = target.group;
        table.running_on[cpu] = next;
        table.running_group_on[cpu] = group;
        let root = table
            .map
            .get(&group)
            .and_then(|leader| leader.space.as_ref())
            .map_or_else(kernel_space::root, |space| space.root());
        Some((from, to, root, stack_top))
    });
    let Some((from, to, root, stack_top)) = switch else {
        return;
    };
    if let Some(top) = stack_top {
        Cpu::set_kernel_stack(top);
    }
    // SAFETY: `root` is the next process's prepared root (or the kernel's); both map the
    // kernel. The contexts live in boxes owned by the table, which outlive this switch: a
    // process is only reaped once it has exited and switched away for good.
    unsafe {
        Cpu::activate_user_root(root);
        crate::smp::set_active_root(root);
        crate::smp::count_switch();
        Cpu::switch_context(from, to);
    }
}

/// The timer tick: wake sleepers whose time has come, and preempt the running process.
pub fn tick() {
    let now = Cpu::monotonic_nanoseconds();
    let running_user = with(|table| {
        let sleepers: alloc::vec::Vec<_> = table
            .map
            .values()
            .filter(|process| match process.state {
                State::Sleeping(deadline) | State::WaitingOnQueueUntil(deadline) => deadline <= now,
                _ => false,
            })
            .map(|process| process.id)
            .collect();
        for id in sleepers {
            table.wake_if(id, |state| {
                matches!(state, State::Sleeping(_) | State::WaitingOnQueueUntil(_))
            });
        }
        table.current() != IDLE
    });
    if running_user {
        reschedule(true);
    }
}

/// Puts the running process to sleep until the monotonic clock reaches `deadline`.
pub fn sleep_until(deadline: u64) {
    with(|table| table.running().state = State::Sleeping(deadline));
    reschedule(false);
}

/// Each CPU's boot thread's last job: run whatever is ready, and wait for interrupts
/// otherwise. Entered with the big lock held; drops it while waiting.
pub fn run_idle() -> ! {
    loop {
        reschedule(false);
        crate::smp::set_idle(true);
        crate::smp::BigLock::unlock();
        Cpu::wait_for_interrupt();
        crate::smp::BigLock::lock();
        crate::smp::set_idle(false);
    }
}
