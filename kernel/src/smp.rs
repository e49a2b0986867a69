//! Every CPU at work: the big kernel lock, per-CPU facts, inter-processor interrupts and TLB
//! shootdown.
//!
//! # The big kernel lock
//!
//! Kernel code runs on one CPU at a time. Every entry into the kernel from user mode (system
//! call, fault, timer tick, device interrupt, IPI that must reschedule) takes [`BigLock`]
//! first (`user_hooks`), and every return to user mode drops it; the idle loop drops it
//! before it waits for an interrupt and takes it again when it wakes. It is the one lock held
//! across a context switch: the thread that switches out holds it, and the thread that
//! switches in inherits it (it releases it where it next returns to user mode, or, new, in
//! `process::enter_user`). So no other CPU can pick a thread whose context is still being
//! saved, reap a zombie whose stack is still in use, or see a half-made change to any kernel
//! table. The fine-grained spin locks under it keep their order (`main.rs`, "Lock order")
//! and are never contended; interrupts stay masked in the kernel.
//!
//! A CPU spinning for the big lock keeps serving TLB-shootdown requests (it polls its
//! pending flag in the spin loop), so the holder, which may wait for every CPU's
//! acknowledgement, never waits on a CPU that waits on it.
//!
//! # TLB shootdown
//!
//! No PCID and no ASID: x86_64 reloads CR3 (coherent sets no global entries, so that drops
//! every translation), aarch64 runs `tlbi vmalle1is` (which also reaches every CPU in
//! hardware; the IPI is still sent, so one rule serves both). Each CPU records the root it
//! has active ([`set_active_root`]); the CPUs a space is active on are those whose active
//! root is that space's root — keyed on the space, so threads sharing one space are covered.
//! Changing or removing a mapping of a space ([`shootdown_space`]) or of the kernel's half
//! ([`shootdown_all`]) flags each such other CPU, sends it an IPI and waits until each has
//! flushed and acknowledged. This happens under the big lock, before the unmapping CPU
//! drops it; every reuse of a frame (the frame allocator) or of a pool buffer (dmad learns
//! of the unmap from a `Munmap` the kernel queues under the same lock) needs the big lock,
//! so nothing is reused while any TLB still reaches it.
//!
//! The same lock keeps a system call's copy to or from user memory whole: no other thread
//! of its process can unmap that memory while the copy runs (unmapping needs the lock), and
//! memory unmapped before it gives `EFAULT` through the fault-recovering copy
//! (`syscall::user_memory`).
//!
//! # CPUs and counters
//!
//! The boot CPU starts every CPU the machine description lists (MADT local APICs, the device
//! tree's `/cpus`), at most [`MAX_CPUS`] (the command line's `cpus=N` lowers that), each on
//! an idle stack of its own; the boot log names each that came up. `sys:cpu` says which CPU
//! the caller runs on, `sys:cpus` lists every CPU's switches, IPIs received and sent,
//! shootdowns started (kernel-half ones included), flushes done for others, ticks and
//! entries from user mode.

use crate::arch::{Arch, Cpu};
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use kernel_core::user_mode::UserMode;

/// The most CPUs the kernel runs (more in the machine description are left stopped).
pub const MAX_CPUS: usize = 8;

/// How long a shootdown waits for acknowledgements before declaring the kernel broken.
const SHOOTDOWN_TIMEOUT_NANOSECONDS: u64 = 10_000_000_000;

/// CPUs running (indices `0..ONLINE`).
static ONLINE: AtomicUsize = AtomicUsize::new(1);

/// The big kernel lock: 0 when free, else the holder's index + 1.
static BIG_LOCK: AtomicUsize = AtomicUsize::new(0);

/// Per-CPU facts, indexed by `Cpu::cpu_index()`.
struct PerCpu {
    /// The translation root this CPU has active (its running thread's space or the kernel's).
    active_root: AtomicU64,
    /// Set by a shootdown's initiator; cleared by this CPU once it has flushed.
    flush_pending: AtomicBool,
    /// In the idle loop's wait: an IPI wakes it to pick up new work.
    idle: AtomicBool,
    /// Hardware id (local APIC id / MPIDR affinity).
    hardware_id: AtomicU64,
    switches: AtomicU64,
    ipis_received: AtomicU64,
    ipis_sent: AtomicU64,
    flushes: AtomicU64,
    shootdowns: AtomicU64,
    ticks: AtomicU64,
    user_entries: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)]
const PER_CPU: PerCpu = PerCpu {
    active_root: AtomicU64::new(0),
    flush_pending: AtomicBool::new(false),
    idle: AtomicBool::new(false),
    hardware_id: AtomicU64::new(0),
    switches: AtomicU64::new(0),
    ipis_received: AtomicU64::new(0),
    ipis_sent: AtomicU64::new(0),
    flushes: AtomicU64::new(0),
    shootdowns: AtomicU64::new(0),
    ticks: AtomicU64::new(0),
    user_entries: AtomicU64::new(0),
};

static CPUS: [PerCpu; MAX_CPUS] = [PER_CPU; MAX_CPUS];

/// This CPU's index.
pub fn this_cpu() -> usize {
    Cpu::cpu_index().min(MAX_CPUS - 1)
}

/// How many CPUs run.
pub fn online() -> usize {
    ONLINE.load(Ordering::Acquire)
}

/// Records that CPU `index` (hardware id `hardware_id`) runs; called by the boot CPU once
/// the CPU reported itself started.
pub fn mark_online(index: usize, hardware_id: u64) {
    CPUS[index]
        .hardware_id
        .store(hardware_id, Ordering::Relaxed);
    ONLINE.fetch_max(index + 1, Ordering::AcqRel);
}

/// The big kernel lock (see the module doc). Not a guard type: it is handed across context
/// switches, so taking and dropping it are separate calls.
pub struct BigLock;

impl BigLock {
    /// Takes the big lock, serving shootdown requests while it waits.
    pub fn lock() {
        let me = this_cpu();
        let mine = me + 1;
        loop {
            // Test, then test-and-set: waiting CPUs only read the lock's line.
            if BIG_LOCK.load(Ordering::Relaxed) == 0
                && BIG_LOCK
                    .compare_exchange_weak(0, mine, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
            serve_flush(me);
            Cpu::relax();
        }
    }

    /// Drops the big lock. If processes wait in the run queue, first wakes an idle CPU to
    /// take one: deferred to here, so a process that wakes another and then blocks (a
    /// request to a server, a reply) runs it on this CPU instead of waking a second one.
    pub fn unlock() {
        if READY.load(Ordering::Relaxed) > 0 {
            kick_idle_now();
        }
        BIG_LOCK.store(0, Ordering::Release);
    }
}

/// Flushes this CPU's TLB if a shootdown asked it to, and acknowledges.
pub fn serve_flush(me: usize) {
    let cpu = &CPUS[me];
    if cpu.flush_pending.load(Ordering::Acquire) {
        Cpu::invalidate_all();
        cpu.flushes.fetch_add(1, Ordering::Relaxed);
        cpu.flush_pending.store(false, Ordering::Release);
    }
}

/// The kernel's side of an IPI: serve a shootdown, count it.
pub fn on_ipi() {
    let me = this_cpu();
    CPUS[me].ipis_received.fetch_add(1, Ordering::Relaxed);
    serve_flush(me);
}

/// Records the root this CPU just activated.
pub fn set_active_root(root: u64) {
    CPUS[this_cpu()].active_root.store(root, Ordering::Release);
}

/// Counts a context switch on this CPU.
pub fn count_switch() {
    CPUS[this_cpu()].switches.fetch_add(1, Ordering::Relaxed);
}

/// Counts a tick on this CPU.
pub fn count_tick() {
    CPUS[this_cpu()].ticks.fetch_add(1, Ordering::Relaxed);
}

/// Counts an entry from user mode on this CPU.
pub fn count_user_entry() {
    CPUS[this_cpu()]
        .user_entries
        .fetch_add(1, Ordering::Relaxed);
}

/// Marks this CPU idle (waiting) or busy.
pub fn set_idle(idle: bool) {
    CPUS[this_cpu()].idle.store(idle, Ordering::Release);
}

fn send_ipi(target: usize) {
    CPUS[this_cpu()].ipis_sent.fetch_add(1, Ordering::Relaxed);
    Cpu::send_ipi(target);
}

/// Processes in the run queue (kept by the scheduler under the process table's lock).
static READY: AtomicUsize = AtomicUsize::new(0);

/// The union of the queued processes' affinity masks: which CPUs could take queued work.
static READY_CPUS: AtomicU64 = AtomicU64::new(u64::MAX);

/// Records the run queue's length and which CPUs could run something in it.
pub fn set_ready(count: usize, cpus: u64) {
    READY_CPUS.store(cpus, Ordering::Relaxed);
    READY.store(count, Ordering::Relaxed);
}

/// Wakes one idle CPU other than this one, if any, to pick up queued work.
fn kick_idle_now() {
    let me = this_cpu();
    let allowed = READY_CPUS.load(Ordering::Relaxed);
    if let Some(target) = (0..online()).find(|&cpu| {
        cpu != me && allowed & (1 << cpu) != 0 && CPUS[cpu].idle.load(Ordering::Acquire)
    }) {
        // It stays marked until it wakes; a second wake-up in between picks another CPU or
        // none, which is fine: the woken CPU takes everything it can.
        CPUS[target].idle.store(false, Ordering::Release);
        send_ipi(target);
    }
}

/// Shoots down every other CPU on which the space rooted at `root` is active, and waits for
/// their acknowledgements. Call with the big lock held, after the mapping changed.
pub fn shootdown_space(root: u64) {
    shootdown(|cpu| cpu.active_root.load(Ordering::Acquire) == root);
}

/// Shoots down every other CPU (a change to the kernel's half), and waits.
pub fn shootdown_all() {
    shootdown(|_| true);
}

fn shootdown(targets: impl Fn(&PerCpu) -> bool) {
    let me = this_cpu();
    let count = online();
    if count == 1 {
        return;
    }
    let mut any = false;
    for (index, cpu) in CPUS.iter().enumerate().take(count) {
        if index != me && targets(cpu) {
            cpu.flush_pending.store(true, Ordering::Release);
            send_ipi(index);
            any = true;
        }
    }
    if !any {
        return;
    }
    CPUS[me].shootdowns.fetch_add(1, Ordering::Relaxed);
    let start = Cpu::monotonic_nanoseconds();
    for (index, cpu) in CPUS.iter().enumerate().take(count) {
        while index != me && cpu.flush_pending.load(Ordering::Acquire) {
            Cpu::relax();
            assert!(
                Cpu::monotonic_nanoseconds() - start < SHOOTDOWN_TIMEOUT_NANOSECONDS,
                "CPU {index} never acknowledged a TLB shootdown"
            );
        }
    }
}

/// One CPU's counters as `sys:cpus` shows them.
pub struct CpuSummary {
    /// Its index.
    pub index: usize,
    /// Its hardware id.
    pub hardware_id: u64,
    /// Context switches.
    pub switches: u64,
    /// IPIs it received.
    pub ipis_received: u64,
    /// IPIs it sent.
    pub ipis_sent: u64,
    /// Shootdowns it started that reached another CPU.
    pub shootdowns: u64,
    /// Flushes it did for others' shootdowns.
    pub flushes: u64,
    /// Timer ticks it took.
    pub ticks: u64,
    /// Entries from user mode (system calls, faults, interrupts).
    pub user_entries: u64,
}

/// Every online CPU's counters.
pub fn summaries() -> impl Iterator<Item = CpuSummary> {
    (0..online()).map(|index| {
        let cpu = &CPUS[index];
        CpuSummary {
            index,
            hardware_id: cpu.hardware_id.load(Ordering::Relaxed),
            switches: cpu.switches.load(Ordering::Relaxed),
            ipis_received: cpu.ipis_received.load(Ordering::Relaxed),
            ipis_sent: cpu.ipis_sent.load(Ordering::Relaxed),
            shootdowns: cpu.shootdowns.load(Ordering::Relaxed),
            flushes: cpu.flushes.load(Ordering::Relaxed),
            ticks: cpu.ticks.load(Ordering::Relaxed),
            user_entries: cpu.user_entries.load(Ordering::Relaxed),
        }
    })
}
