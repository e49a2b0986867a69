//! Round-robin scheduling: the run queue, switching, the tick (which also wakes wait-queue
//! waiters whose deadline passed) and the idle loop.

use super::{with, State, IDLE};
use crate::arch::Cpu;
use crate::memory::kernel_space;
use kernel_core::user_mode::UserMode;

/// Switches to the next ready process (or idle). With `requeue`, the running process goes
/// to the back of the queue first (a yield or a preemption); without, it must already have
/// left `Running` (it blocked or exited). Returns when something switches back to it.
pub fn reschedule(requeue: bool) {
    let switch = with(|table| {
        let current = table.current;
        if requeue && current != IDLE {
            if let Some(process) = table.map.get_mut(&current) {
                if process.state == State::Running {
                    process.state = State::Ready;
                    table.ready.push_back(current);
                }
            }
        }
        let next = loop {
            match table.ready.pop_front() {
                Some(id)
                    if table
                        .map
                        .get(&id)
                        .is_some_and(|process| process.state == State::Ready) =>
                {
                    break id
                }
                Some(_) => continue,
                None if table
                    .map
                    .get(&current)
                    .is_some_and(|process| process.state == State::Running) =>
                {
                    return None;
                }
                None => break IDLE,
            }
        };
        if next == current {
            table.running().state = State::Running;
            return None;
        }
        table.current = next;
        let from: *mut <Cpu as UserMode>::Context =
            &mut *table.map.get_mut(&current).expect("current exists").context;
        let target = table.map.get_mut(&next).expect("next exists");
        target.state = State::Running;
        let to: *const <Cpu as UserMode>::Context = &*target.context;
        let stack_top = target.stack.as_ref().map(|stack| stack.top());
        // A thread runs in its process's space, which its leader's entry holds.
        let group = target.group;
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
        table.current != IDLE
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

/// The boot thread's last job: run whatever is ready, and wait for interrupts otherwise.
pub fn run_idle() -> ! {
    loop {
        reschedule(false);
        Cpu::wait_for_interrupt();
    }
}
