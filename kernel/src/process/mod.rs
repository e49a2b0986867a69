//! Processes: address space, kernel stack, descriptors, and their lifecycle.
//!
//! A process has one or more threads (see [`thread`]). Each runs in user mode until a
//! system call, a fault or the timer brings it into the kernel on its own kernel stack (see
//! `kernel_core::user_mode`). The kernel is never preempted (interrupts stay masked in it);
//! it switches threads only in [`reschedule`], called when a thread blocks, yields, exits or
//! is preempted by the tick.
//!
//! The table holds threads: a process is its first thread (the leader, whose id is the
//! pid) plus the threads whose `group` names it. The leader's entry holds what the process
//! shares — address space, descriptors, parent, exit status — so everything that asks about
//! "the process" looks at [`Processes::running_process`]; scheduling state, kernel stack
//! and context are each thread's own ([`Processes::running`]).
//!
//! Every CPU runs threads (`crate::smp`): each CPU has its own current thread and idle
//! thread, all share one run queue, and kernel code runs under the big kernel lock, which a
//! switch hands from the outgoing thread to the incoming one (see `scheduler`).
//!
//! Lifecycle: [`spawn`] loads a program into a new address space and queues it. Exiting is
//! orchestrated above this layer (`lifecycle`, since servers must be told), from the pieces
//! here: [`begin_exit`] marks the process exited, wakes the parent and hands back its space
//! and descriptors; [`revoke_lent`] takes back what it lent; [`finish_exit`] switches away
//! for good, leaving a zombie holding only its kernel stack until the parent reaps it with
//! [`wait`]. Orphans go to init (process 1). When init ends, the machine powers off.
//!
//! This module knows nothing of schemes or IPC: it holds descriptor tables
//! (`object::FileTable`) but never closes a file itself.
//!
//! Killing: [`kill`] checks who may (the target's parent, or a `kills` right naming its
//! section: `Rights::may_kill`), marks every thread of the target and wakes it (a wait for
//! a scheme reply waits on, see `kill`). Its waits then give up (`Error::Interrupted`), and it dies where it would next
//! return to user mode — the end of a system call, after a tick, before its first
//! instruction — holding nothing, exactly as a process that faults; the dying itself is
//! `lifecycle`'s (`lifecycle::exit_if_killed`), since servers must be told.
//!
//! Limits: a process has at most [`MAX_CHILDREN`] children (running or not yet reaped); one
//! more spawn is refused with EAGAIN, as `fork` does (checked by the `spawn` system call).
//!
//! Revocation: a process that exits first revokes every mapping it lent to other processes
//! (see `space`), with one TLB flush, before its own frames are released and before its
//! schemes are unregistered — so a restarted server never meets a stale mapping of its
//! predecessor's, and nobody maps a frame that could be handed out again. No `Munmap` for a
//! revoked mapping reaches anyone. A process touching a revoked mapping faults and is killed
//! with the reason "mapping revoked" (rather than, say, seeing zeroes: silently changing
//! memory under a process is worse than stopping it).

mod kill;
pub mod loader;
mod scheduler;
pub mod space;
mod stack;
pub mod thread;
mod wait_queue;

pub use kill::{kill, kill_requested};
pub use scheduler::{reschedule, run_idle, sleep_until, tick};
pub use wait_queue::{WaitQueue, READINESS};

use crate::arch::{Arch, Cpu, ExitStatus};
use crate::memory::kernel_space;
use crate::object::FileTable;
use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::sync::Arc;
use kernel_core::elf::Machine;
use kernel_core::rights::Rights;
use kernel_core::user_mode::UserMode;
use kernel_core::Error;
use log::{info, warn};
use space::UserSpace;
use spin::Mutex;
use stack::KernelStack;

use crate::smp::MAX_CPUS;

/// A kernel stack for a secondary CPU's idle thread, kept for the rest of the run; its
/// top, or `None` when memory ran out.
pub fn idle_stack() -> Option<u64> {
    let stack = KernelStack::new()?;
    let top = stack.top();
    core::mem::forget(stack);
    Some(top)
}

/// A process number. 0 is the idle thread, 1 is init.
pub type ProcessId = u32;

/// The idle thread: the boot thread after it started init.
pub const IDLE: ProcessId = 0;

/// An affinity mask that allows every CPU.
pub const ALL_CPUS: u64 = u64::MAX;

/// Pins the calling thread to the CPUs in `mask` (bit N = CPU index N) and, when the CPU it
/// runs on is not among them, moves it at once (see `kernel_core::abi::SYS_SET_AFFINITY`).
/// `InvalidArgument` for a mask naming no CPU or any CPU that is not online.
pub fn set_affinity(mask: u64) -> Result<(), Error> {
    let online = crate::smp::online();
    let online_mask = if online >= 64 {
        u64::MAX
    } else {
        (1u64 << online) - 1
    };
    if mask == 0 || mask & !online_mask != 0 {
        return Err(Error::InvalidArgument);
    }
    let must_move = with(|table| {
        table.running().affinity = mask;
        mask & (1 << crate::smp::this_cpu()) == 0
    });
    if must_move {
        scheduler::reschedule(true);
    }
    Ok(())
}
/// The first user process.
pub const INIT: ProcessId = 1;

/// The most children (running or not yet reaped) one process may have; `spawn` refuses
/// more with `EAGAIN`, so a spawn loop is bounded by its parent, not by the kernel's memory.
pub const MAX_CHILDREN: usize = 64;

/// What a process is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Waiting in the run queue.
    Ready,
    /// On the CPU.
    Running,
    /// Asleep until the monotonic clock reaches this many nanoseconds.
    Sleeping(u64),
    /// Waiting for a child to exit.
    WaitingForChild,
    /// A scheme server waiting for a request.
    WaitingForRequest,
    /// A client waiting for a scheme server's reply.
    WaitingForReply,
    /// Parked on a [`WaitQueue`] until its event.
    WaitingOnQueue,
    /// Parked on a [`WaitQueue`] until its event or until the monotonic clock reaches this
    /// many nanoseconds, whichever comes first.
    WaitingOnQueueUntil(u64),
    /// Ended with this status (see `kernel_core::abi::EXIT_KILLED`), not yet reaped: a
    /// process's leader once every thread of it has stopped.
    Exited(u64),
    /// A thread that ended with this status while (or as) its process goes on; joined by
    /// `thread::join`, or reaped with its process.
    ThreadExited(u64),
    /// Waiting in `thread::join` for this thread to exit.
    Joining(ProcessId),
}

/// Where a new process starts in user mode.
#[derive(Clone, Copy, Debug)]
struct Start {
    entry: u64,
    stack_pointer: u64,
    arguments: u64,
}

/// One process.
pub struct Process {
    /// Its number (a pid for a leader, a tid for another thread).
    pub id: ProcessId,
    /// The process it belongs to: its leader's number (its own for a leader).
    pub group: ProcessId,
    /// For a leader: the status the process ends with, once a thread asked to end all of
    /// it (`SYS_EXIT`, a fault, a kill) and the others are on their way out.
    pub group_status: Option<u64>,
    /// A short name (the program's file name) for logs.
    pub name: String,
    /// Who waits for it.
    pub parent: Option<ProcessId>,
    /// What it is doing.
    pub state: State,
    /// Its address space (`None` for the idle thread and after exit).
    pub space: Option<UserSpace>,
    /// Its open files.
    pub files: FileTable,
    /// What it may do, fixed at spawn (see `kernel_core::rights`).
    pub rights: Arc<Rights>,
    /// Someone killed it (`SYS_KILL`): it exits the next time it would return to user mode.
    pub kill_requested: bool,
    /// The CPUs it may run on, one bit per CPU index (`SYS_SET_AFFINITY`); [`ALL_CPUS`] unless
    /// it pinned itself. A new thread inherits its spawner's; a new process gets every CPU.
    pub affinity: u64,
    stack: Option<KernelStack>,
    context: Box<<Cpu as UserMode>::Context>,
    start: Option<Start>,
}

/// Every process, the run queue and who is running on each CPU.
pub struct Processes {
    /// By number. Process 0 stands for the idle threads (one per CPU) in listings; their
    /// contexts are `idle_contexts`.
    pub map: BTreeMap<ProcessId, Process>,
    ready: VecDeque<ProcessId>,
    /// The process running on each CPU ([`IDLE`] for its idle thread).
    running_on: [ProcessId; MAX_CPUS],
    /// The `group` of the thread in `running_on` (a thread's group never changes), kept
    /// beside it by the scheduler so the running process's entry is one map lookup.
    running_group_on: [ProcessId; MAX_CPUS],
    /// Each CPU's idle thread (its boot stack) while it is switched out; made once with
    /// [`MAX_CPUS`] entries and never resized, so the contexts never move.
    idle_contexts: alloc::vec::Vec<<Cpu as UserMode>::Context>,
    next_id: ProcessId,
}

/// The process table.
pub static PROCESSES: Mutex<Option<Processes>> = Mutex::new(None);

/// The CPU programs must be built for.
pub fn machine() -> Machine {
    if Cpu::TARGET == "x86_64" {
        Machine::X86_64
    } else {
        Machine::Aarch64
    }
}

/// Sets up the table with the boot thread as the idle thread.
pub fn init() {
    let idle = Process {
        id: IDLE,
        group: IDLE,
        group_status: None,
        name: "idle".into(),
        parent: None,
        state: State::Running,
        space: None,
        files: FileTable::default(),
        rights: Arc::new(Rights::none()),
        kill_requested: false,
        affinity: ALL_CPUS,
        stack: None,
        context: Box::default(),
        start: None,
    };
    let mut map = BTreeMap::new();
    map.insert(IDLE, idle);
    *PROCESSES.lock() = Some(Processes {
        map,
        ready: VecDeque::new(),
        running_on: [IDLE; MAX_CPUS],
        running_group_on: [IDLE; MAX_CPUS],
        idle_contexts: (0..MAX_CPUS).map(|_| Default::default()).collect(),
        next_id: INIT,
    });
}

/// Runs `body` with the process table.
///
/// # Panics
/// If [`init`] has not run: a broken boot order.
pub fn with<R>(body: impl FnOnce(&mut Processes) -> R) -> R {
    body(
        PROCESSES
            .lock()
            .as_mut()
            .expect("process table used before process::init"),
    )
}

/// The running process's number (its pid, whichever of its threads runs).
pub fn current() -> ProcessId {
    with(|table| table.running_group())
}

/// Whether the running process has begun its exit (`begin_exit` marked it exited while its
/// last thread releases what it held): what the kernel tells a server of the closes it
/// sends on its behalf now (`abi::CLOSE_AT_EXIT`).
pub fn current_has_exited() -> bool {
    with(|table| {
        let id = table.running().group;
        table
            .map
            .get(&id)
            .is_some_and(|process| matches!(process.state, State::Exited(_)))
    })
}

/// The running thread's number (the pid for a process's first thread).
pub fn current_thread() -> ProcessId {
    with(|table| table.current())
}

/// What a new process runs first, on its kernel stack, given its number: the caller's code
/// (`lifecycle`, which lets a process killed before it ran die there), ending in
/// [`enter_user`].
pub type FirstCode = extern "C" fn(usize) -> !;

/// Loads `program` (the ELF file of initfs path `path`) as a new child of `parent` holding
/// `rights`, and queues it to run `first` when first scheduled. The caller has checked that
/// the parent may grant `rights`. `NotExecutable` for a bad ELF, `OutOfMemory`,
/// `InvalidArgument` for arguments too large, `TryAgain` when process numbers are used up.
pub fn spawn(
    program: &[u8],
    path: &str,
    arguments: &[&[u8]],
    parent: Option<ProcessId>,
    rights: Rights,
    first: FirstCode,
) -> Result<ProcessId, Error> {
    if with(|table| table.next_id == ProcessId::MAX) {
        return Err(Error::TryAgain);
    }
    let loaded = loader::load(program, machine(), arguments).map_err(|error| match error {
        loader::LoadError::Elf(_) => Error::NotExecutable,
        loader::LoadError::Memory(_) => Error::OutOfMemory,
        loader::LoadError::ArgumentsTooLarge => Error::InvalidArgument,
    })?;
    let Some(stack) = KernelStack::new() else {
        loaded.space.destroy();
        return Err(Error::OutOfMemory);
    };
    let short = path.rsplit('/').next().unwrap_or(path);
    let mut name = String::new();
    if name.try_reserve_exact(short.len()).is_err() {
        drop(stack);
        loaded.space.destroy();
        return Err(Error::OutOfMemory);
    }
    name.push_str(short);
    let context = crate::fallible::try_box(<Cpu as UserMode>::Context::default());
    let queued = with(|table| table.ready.try_reserve(1).is_ok());
    let Some(mut context) = context.ok().filter(|_| queued) else {
        drop(stack);
        loaded.space.destroy();
        return Err(Error::OutOfMemory);
    };
    let id = with(|table| {
        let id = table.next_id;
        table.next_id += 1;
        id
    });
    Cpu::initialize_context(&mut context, stack.top(), first, id as usize);
    let process = Process {
        id,
        group: id,
        group_status: None,
        name,
        parent,
        state: State::Ready,
        space: Some(loaded.space),
        files: FileTable::default(),
        rights: Arc::new(rights),
        kill_requested: false,
        affinity: ALL_CPUS,
        stack: Some(stack),
        context,
        start: Some(Start {
            entry: loaded.entry,
            stack_pointer: loaded.stack_pointer,
            arguments: loaded.arguments,
        }),
    };
    with(|table| {
        table.map.insert(id, process);
        table.ready.push_back(id);
        crate::smp::set_ready(table.ready.len(), table.waiting_cpus());
    });
    Ok(id)
}

/// Enters user mode for the first time as the running process, new process `id`: the end
/// of its [`FirstCode`].
///
/// # Panics
/// If `id` is not the running process or has started before: a broken spawn.
pub fn enter_user(id: ProcessId) -> ! {
    let (start, top) = with(|table| {
        assert_eq!(
            table.current(),
            id,
            "a process starts only as the running one"
        );
        let process = table.map.get_mut(&id).expect("a starting process exists");
        let start = process.start.take().expect("a process starts once");
        (
            start,
            process
                .stack
                .as_ref()
                .expect("user processes have a kernel stack")
                .top(),
        )
    });
    // The big lock was handed to this new thread by the switch that started it; user mode
    // runs without it.
    crate::smp::BigLock::unlock();
    // SAFETY: `reschedule` activated this process's root, which maps the entry point and the
    // stack for user mode (the loader made both).
    unsafe { Cpu::enter_user(start.entry, start.stack_pointer, start.arguments, top) }
}

/// What an exiting process leaves for its caller to clean up (`lifecycle::exit_current`).
pub struct Exiting {
    /// Its number.
    pub id: ProcessId,
    /// Its address space, to destroy once the CPU has left it.
    pub space: Option<UserSpace>,
    /// Its descriptors, to release.
    pub files: FileTable,
}

/// Marks the running process exited with `status`, hands its children to init, wakes its
/// parent (and init, for orphans already exited), and takes its space and descriptors out.
/// Called by the last of its threads to stop (`thread::stop`), so no other thread of it
/// runs or can run again.
pub fn begin_exit(status: u64) -> Exiting {
    with(|table| {
        let id = table.running().group;
        let mut orphans = false;
        for child in table
            .map
            .values_mut()
            .filter(|process| process.parent == Some(id))
        {
            child.parent = Some(INIT);
            orphans |= matches!(child.state, State::Exited(_));
        }
        let process = table.map.get_mut(&id).expect("the running process exists");
        process.state = State::Exited(status);
        let parent = process.parent;
        let exiting = Exiting {
            id,
            space: process.space.take(),
            files: core::mem::take(&mut process.files),
        };
        if let Some(parent) = parent {
            table.wake_group_if(parent, |state| state == State::WaitingForChild);
        }
        if orphans {
            table.wake_group_if(INIT, |state| state == State::WaitingForChild);
        }
        exiting
    })
}

/// Leaves the dying space: the CPU switches to the kernel's own root, so `space` can be
/// destroyed.
pub fn leave_space() {
    // SAFETY: the kernel's root maps everything the kernel uses; the caller frees the dying
    // space's tables only after this.
    unsafe { Cpu::activate_user_root(kernel_space::root()) };
    crate::smp::set_active_root(kernel_space::root());
}

/// The last step of an exit: init's end powers the machine off; anyone else switches away
/// for good.
pub fn finish_exit(id: ProcessId, status: u64) -> ! {
    if id == INIT {
        let ok = status == 0;
        if ok {
            info!("init exited with status 0; powering off");
        } else {
            warn!("init exited with status {status:#x}; powering off");
        }
        Cpu::power_off(if ok {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        });
    }
    reschedule(false);
    unreachable!("an exited process was scheduled again");
}

/// Unmaps every mapping `lender` lent from every other process, then flushes the TLB.
pub fn revoke_lent(lender: ProcessId) {
    let revoked: usize = with(|table| {
        table
            .map
            .values_mut()
            .filter(|process| process.id != lender)
            .filter_map(|process| process.space.as_mut())
            .map(|space| space.revoke(lender))
            .sum()
    });
    if revoked > 0 {
        Cpu::invalidate_all();
        info!("process {lender} exited: revoked {revoked} mappings it had lent");
    }
}

/// Says why the running process is being killed after a fault in user mode (the caller
/// then ends it with `EXIT_KILLED`).
pub fn report_fault(fault: kernel_core::Fault, instruction: u64) {
    let (id, name, revoked_by) = with(|table| {
        let process = &*table.running_process();
        let revoked_by = process
            .space
            .as_ref()
            .and_then(|space| space.revoked_by(fault.address));
        (process.id, process.name.clone(), revoked_by)
    });
    match revoked_by {
        Some(lender) => warn!(
            "process {name} ({id}) killed: {} at {:#x} (pc {instruction:#x}): mapping revoked \
             when its lender, process {lender}, exited",
            fault.cause, fault.address
        ),
        None => warn!(
            "process {name} ({id}) killed: {} at {:#x} (pc {instruction:#x})",
            fault.cause, fault.address
        ),
    }
}

/// Waits for a child (`pid` 0 = any) to exit and reaps it; `Ok(None)` with `no_hang` when
/// none has exited yet.
pub fn wait(pid: ProcessId, no_hang: bool) -> Result<Option<(ProcessId, u64)>, Error> {
    loop {
        let outcome = with(|table| {
            let me = table.running().group;
            let matches =
                |process: &Process| process.parent == Some(me) && (pid == 0 || process.id == pid);
            if !table.map.values().any(matches) {
                return Err(Error::NoChild);
            }
            let exited = table
                .map
                .values()
                .find(|process| matches(process) && matches!(process.state, State::Exited(_)))
                .map(|process| process.id);
            if let Some(child) = exited {
                let process = table.map.remove(&child).expect("found above");
                let State::Exited(status) = process.state else {
                    unreachable!()
                };
                // Its other threads stopped before it was marked exited: reap them too.
                table.map.retain(|_, thread| thread.group != child);
                return Ok(Some((child, status)));
            }
            if no_hang {
                return Ok(None);
            }
            table.running().state = State::WaitingForChild;
            Ok(Some((0, 0)))
        })?;
        match outcome {
            Some((0, _)) => {
                reschedule(false);
                if kill_requested() {
                    return Err(Error::Interrupted);
                }
            }
            other => return Ok(other),
        }
    }
}

impl Processes {
    /// Queues `id` if its state satisfies `condition`.
    pub fn wake_if(&mut self, id: ProcessId, condition: impl Fn(State) -> bool) {
        if let Some(process) = self.map.get_mut(&id) {
            if condition(process.state) {
                process.state = State::Ready;
                self.ready.push_back(id);
                crate::smp::set_ready(self.ready.len(), self.waiting_cpus());
            }
        }
    }

    /// Queues every thread of process `group` whose state satisfies `condition`.
    pub fn wake_group_if(&mut self, group: ProcessId, condition: impl Fn(State) -> bool) {
        let ready = &mut self.ready;
        // A thread's number comes from the same counter, after its process's: none is
        // below `group`.
        let threads = self.map.range_mut(group..).map(|(_, thread)| thread);
        for thread in threads.filter(|thread| thread.group == group) {
            if condition(thread.state) {
                thread.state = State::Ready;
                ready.push_back(thread.id);
            }
        }
    }

    /// The process the running thread belongs to (its leader's entry, which holds the
    /// space, descriptors and parent).
    pub fn running_process(&mut self) -> &mut Process {
        let group = self.running_group();
        self.map
            .get_mut(&group)
            .expect("a running thread's process exists")
    }

    /// The running process's address space (`None` for the idle thread).
    pub fn running_space(&mut self) -> Option<&mut UserSpace> {
        self.running_process().space.as_mut()
    }

    /// How many children (running or not yet reaped) `parent` has.
    pub fn children_of(&self, parent: ProcessId) -> usize {
        self.map
            .values()
            .filter(|process| process.parent == Some(parent))
            .count()
    }

    /// The thread running on this CPU ([`IDLE`] for its idle thread).
    pub fn current(&self) -> ProcessId {
        self.running_on[crate::smp::this_cpu()]
    }

    /// The process the running thread belongs to (its `group`; [`IDLE`] for idle).
    pub fn running_group(&self) -> ProcessId {
        self.running_group_on[crate::smp::this_cpu()]
    }

    /// The CPUs that could run some queued process: the union of their affinity masks.
    pub fn waiting_cpus(&self) -> u64 {
        self.ready
            .iter()
            .filter_map(|id| self.map.get(id))
            .fold(0, |mask, process| mask | process.affinity)
    }

    /// The running thread.
    pub fn running(&mut self) -> &mut Process {
        let current = self.current();
        self.map
            .get_mut(&current)
            .expect("the running process exists")
    }
}

/// One process as `sys:processes` shows it.
pub struct Summary<'a> {
    /// Its number.
    pub id: ProcessId,
    /// Its parent.
    pub parent: Option<ProcessId>,
    /// Its name.
    pub name: &'a str,
    /// What it is doing.
    pub state: State,
    /// Frames its space owns.
    pub pages: u64,
}

/// Runs `visit` on each process in number order, under the process table's lock (so
/// `visit` must not take it), stopping at the first error.
pub fn for_each_summary<E>(mut visit: impl FnMut(Summary<'_>) -> Result<(), E>) -> Result<(), E> {
    with(|table| {
        table.map.values().try_for_each(|process| {
            visit(Summary {
                id: process.id,
                parent: process.parent,
                name: &process.name,
                state: process.state,
                pages: process.space.as_ref().map_or(0, UserSpace::owned_pages),
            })
        })
    })
}
