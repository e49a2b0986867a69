//! `smp-tests`: the `smp` guest suite — every CPU at work (the xtask runs it on
//! [`EXPECTED_CPUS`] CPUs, on both CPU architectures).
//!
//! Each test reads the kernel's per-CPU counters (`sys:cpus`) before and after what it
//! does, and CPU-bound children (`smp-spinner`) report which CPUs they ran on (`sys:cpu`):
//!
//! 1. `all_cpus_up`: `sys:cpus` lists exactly the expected CPUs, and `sys:cpu` names one;
//! 2. `every_cpu_takes_its_own_timer`: every CPU's tick count rises;
//! 3. `every_cpu_runs_user_code`: spinners, together, are seen on every CPU, and every CPU
//!    counts entries from user mode;
//! 4. `cpu_bound_processes_spread`: as many spinners as CPUs, at once, each mostly on a CPU
//!    of its own (at least all but one distinct);
//! 5. `ipis_delivered_under_load`: while spinners keep every CPU busy, children come and
//!    go; every CPU receives IPIs (wake-ups and the shootdowns of exiting processes'
//!    kernel stacks) and no more arrive than were sent;
//! 6. `shootdowns_reach_and_are_acknowledged`: each process exit's kernel-stack unmap
//!    shoots the other CPUs down, and each shootdown was answered by at least one flush;
//! 7. `four_dma_clients_on_four_cpus`: four `dma-worker`s × 2,000 random dmad operations
//!    at once, each writing and checking its own pattern in every buffer (an overlap or a
//!    stale mapping would show as a foreign word), running on every CPU; dmad's pool is
//!    exactly as before at the end;
//! 8. `threads_of_one_process_on_different_cpus`: as many CPU-bound threads of this
//!    process as CPUs, each mostly on a CPU of its own (all but one distinct);
//! 9. `reader_faults_and_never_sees_the_next_owner`: a thread reads a dmad buffer in a loop
//!    while another thread of its process unmaps and closes it and another process keeps
//!    allocating, filling and releasing buffers: the reader faults (its process is killed)
//!    and never reads the next owner's pattern (`smp-unmapper reader` / `owner`);
//! 10. `syscall_copy_from_an_unmapped_buffer_is_efault`: a thread's `open` of a path in a
//!     buffer another thread unmaps returns `EFAULT` (`smp-unmapper copier`);
//! 11. `pinned_threads_stay_on_their_cpu`: `set_affinity` refuses an empty mask and a CPU
//!     that is not online (`EINVAL`); two CPU-bound threads pinned to the last CPU and one
//!     pinned to CPU 1 only ever see their pinned CPU in `sys:cpu` (and both threads
//!     sharing a CPU finish);
//! 12. `dmad_alive_and_pool_whole`: dmad still runs and the pool is whole.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;
use dma_tests::{stats, text, DEVICE};
use process_tests::check::{expect_ending, Outcome};
use process_tests::runner::Suite;
use process_tests::{child, ensure};
use smp_tests::{cpus, current_cpu, CpuCounters, EXPECTED_CPUS};
use userlib::sys::Ending;
use userlib::{time, Args};

userlib::entry!(main);

/// How long each spinner spins.
const SPIN_MILLISECONDS: u64 = 1500;

/// dmad's free pages in the pool before the first test.
static INITIAL_FREE_PAGES: AtomicU64 = AtomicU64::new(u64::MAX);

fn main(_args: Args) -> i32 {
    if let Ok(pool) = stats::read(DEVICE) {
        INITIAL_FREE_PAGES.store(pool.free_pages, Ordering::Relaxed);
    }
    let mut suite = Suite::new("smp");
    suite.run("all_cpus_up", all_cpus_up);
    suite.run(
        "every_cpu_takes_its_own_timer",
        every_cpu_takes_its_own_timer,
    );
    suite.run("every_cpu_runs_user_code", every_cpu_runs_user_code);
    suite.run("cpu_bound_processes_spread", cpu_bound_processes_spread);
    suite.run("ipis_delivered_under_load", ipis_delivered_under_load);
    suite.run(
        "shootdowns_reach_and_are_acknowledged",
        shootdowns_reach_and_are_acknowledged,
    );
    suite.run(
        "four_dma_clients_on_four_cpus",
        four_dma_clients_on_four_cpus,
    );
    suite.run(
        "threads_of_one_process_on_different_cpus",
        threads_of_one_process_on_different_cpus,
    );
    suite.run(
        "reader_faults_and_never_sees_the_next_owner",
        reader_faults_and_never_sees_the_next_owner,
    );
    suite.run(
        "syscall_copy_from_an_unmapped_buffer_is_efault",
        syscall_copy_from_an_unmapped_buffer_is_efault,
    );
    suite.run(
        "pinned_threads_stay_on_their_cpu",
        pinned_threads_stay_on_their_cpu,
    );
    suite.run("dmad_alive_and_pool_whole", dmad_alive_and_pool_whole);
    suite.finish()
}

fn all_cpus_up() -> Outcome {
    let rows = cpus()?;
    ensure!(
        rows.len() == EXPECTED_CPUS,
        "sys:cpus lists {} CPUs, expected {EXPECTED_CPUS}: {rows:?}",
        rows.len()
    );
    for (position, row) in rows.iter().enumerate() {
        ensure!(
            row.index == position,
            "sys:cpus rows out of order: {rows:?}"
        );
    }
    let cpu = current_cpu()?;
    ensure!(cpu < EXPECTED_CPUS, "sys:cpu says {cpu}");
    Ok(())
}

/// Per-CPU differences of one counter between two readings.
fn deltas(
    before: &[CpuCounters],
    after: &[CpuCounters],
    field: fn(&CpuCounters) -> u64,
) -> Vec<u64> {
    before
        .iter()
        .zip(after)
        .map(|(old, new)| field(new).saturating_sub(field(old)))
        .collect()
}

fn every_cpu_takes_its_own_timer() -> Outcome {
    let before = cpus()?;
    time::sleep(Duration::from_millis(300)).map_err(|error| format!("sleep: {error:?}"))?;
    let after = cpus()?;
    let ticks = deltas(&before, &after, |cpu| cpu.ticks);
    ensure!(
        ticks.iter().all(|&count| count > 0),
        "some CPU took no tick in 300 ms: {ticks:?}"
    );
    Ok(())
}

/// What a spinner reported: (CPUs seen as a mask, the CPU it was seen on most, looks).
fn decode(ending: Ending) -> Result<(u32, usize, u32), alloc::string::String> {
    match ending {
        Ending::Exited(status) if status & 0xff != 0 => Ok((
            status as u32 & 0xff,
            (status as usize >> 8) & 0xf,
            status as u32 >> 12,
        )),
        other => Err(format!("a spinner ended {other}")),
    }
}

/// Runs `count` spinners at once and returns what each saw.
fn spinners(
    count: usize,
    milliseconds: u64,
) -> Result<Vec<(u32, usize, u32)>, alloc::string::String> {
    let length = milliseconds.to_string();
    let mut started = Vec::new();
    for _ in 0..count {
        started.push(child::start("/bin/smp-spinner", &[&length])?);
    }
    let mut seen = Vec::new();
    for pid in started {
        seen.push(decode(child::wait(pid)?)?);
    }
    Ok(seen)
}

fn every_cpu_runs_user_code() -> Outcome {
    let before = cpus()?;
    let seen = spinners(EXPECTED_CPUS * 2, SPIN_MILLISECONDS)?;
    let after = cpus()?;
    let union = seen.iter().fold(0, |mask, (cpus, _, _)| mask | cpus);
    ensure!(
        union == (1 << EXPECTED_CPUS) - 1,
        "spinners were seen on CPUs {union:#b} only: {seen:?}"
    );
    let entries = deltas(&before, &after, |cpu| cpu.user_entries);
    ensure!(
        entries.iter().all(|&count| count > 0),
        "some CPU never entered the kernel from user mode: {entries:?}"
    );
    Ok(())
}

fn cpu_bound_processes_spread() -> Outcome {
    let seen = spinners(EXPECTED_CPUS, SPIN_MILLISECONDS)?;
    let mut majorities: Vec<usize> = seen.iter().map(|(_, majority, _)| *majority).collect();
    majorities.sort_unstable();
    majorities.dedup();
    ensure!(
        majorities.len() + 1 >= EXPECTED_CPUS,
        "{EXPECTED_CPUS} CPU-bound processes ran mostly on CPUs {majorities:?}: {seen:?}"
    );
    Ok(())
}

/// Spawns and reaps `count` short-lived children, one after another.
fn churn(count: usize) -> Outcome {
    for _ in 0..count {
        expect_ending(
            "short-lived",
            child::run("/bin/short-lived", &["status", "0"])?,
            Ending::Exited(0),
        )?;
    }
    Ok(())
}

fn ipis_delivered_under_load() -> Outcome {
    let before = cpus()?;
    let length = SPIN_MILLISECONDS.to_string();
    let mut started = Vec::new();
    for _ in 0..EXPECTED_CPUS {
        started.push(child::start("/bin/smp-spinner", &[&length])?);
    }
    churn(10)?;
    for pid in started {
        decode(child::wait(pid)?)?;
    }
    let after = cpus()?;
    let received = deltas(&before, &after, |cpu| cpu.ipis_received);
    ensure!(
        received.iter().all(|&count| count > 0),
        "some CPU received no IPI under load: {received:?}"
    );
    let sent: u64 = deltas(&before, &after, |cpu| cpu.ipis_sent).iter().sum();
    let total: u64 = received.iter().sum();
    ensure!(
        total <= sent + EXPECTED_CPUS as u64,
        "{total} IPIs received but only {sent} sent"
    );
    Ok(())
}

fn shootdowns_reach_and_are_acknowledged() -> Outcome {
    let before = cpus()?;
    churn(10)?;
    let after = cpus()?;
    let shootdowns: u64 = deltas(&before, &after, |cpu| cpu.shootdowns).iter().sum();
    let flushes: u64 = deltas(&before, &after, |cpu| cpu.flushes).iter().sum();
    ensure!(
        shootdowns >= 10,
        "10 process exits started only {shootdowns} shootdowns"
    );
    ensure!(
        flushes >= shootdowns,
        "{shootdowns} shootdowns but only {flushes} flushes answered them"
    );
    Ok(())
}

fn four_dma_clients_on_four_cpus() -> Outcome {
    let pool = stats::read(DEVICE)?;
    let before = cpus()?;
    let mut started = Vec::new();
    for id in 1..=4u64 {
        let id_text = (200 + id).to_string();
        started.push((
            id,
            child::start_as("dma-worker", "/bin/dma-worker", &[&id_text, "2000"])?,
        ));
    }
    for (id, pid) in started {
        expect_ending(
            &format!("dma-worker {id}"),
            child::wait(pid)?,
            Ending::Exited(0),
        )?;
    }
    let after = cpus()?;
    let entries = deltas(&before, &after, |cpu| cpu.user_entries);
    ensure!(
        entries.iter().filter(|&&count| count > 0).count() == EXPECTED_CPUS,
        "the clients did not run on every CPU: {entries:?}"
    );
    stats::settle(DEVICE, pool, "after four concurrent clients")
}

fn dmad_alive_and_pool_whole() -> Outcome {
    let processes =
        text::read_text("sys:processes").map_err(|error| format!("sys:processes: {error:?}"))?;
    ensure!(
        processes
            .lines()
            .any(|line| line.contains(" dmad ") && !line.contains("Exited")),
        "dmad is not running:\n{processes}"
    );
    let initial = INITIAL_FREE_PAGES.load(Ordering::Relaxed);
    ensure!(
        initial != u64::MAX,
        "dmad's stats were unreadable at the start"
    );
    stats::settle_free_pages(DEVICE, initial, "at the end of the suite")
}

/// One CPU-bound thread: spins for [`SPIN_MILLISECONDS`], looking at `sys:cpu` now and then;
/// returns the CPU it was seen on most, plus one (0: never seen).
fn spinning_thread() -> u32 {
    let mut seen = [0u32; 8];
    let Ok(start) = time::monotonic() else {
        return 0;
    };
    let mut sink: u64 = 0;
    while time::monotonic()
        .map(|now| now.saturating_sub(start) < Duration::from_millis(SPIN_MILLISECONDS))
        .unwrap_or(false)
    {
        for step in 0..2000u64 {
            sink = sink.wrapping_mul(6364136223846793005).wrapping_add(step);
        }
        core::hint::black_box(sink);
        if let Ok(cpu) = current_cpu() {
            if cpu < seen.len() {
                seen[cpu] += 1;
            }
        }
    }
    (0..seen.len())
        .filter(|&cpu| seen[cpu] > 0)
        .max_by_key(|&cpu| seen[cpu])
        .map_or(0, |cpu| cpu as u32 + 1)
}

/// How long each pinned thread spins.
const PINNED_SPIN_MILLISECONDS: u64 = 600;

/// A thread that pins itself to `cpu`, spins for [`PINNED_SPIN_MILLISECONDS`] and returns
/// the CPUs it saw in `sys:cpu` as a bit mask (bit 31: pinning failed; 0: never looked).
fn pinned_thread(cpu: usize) -> u32 {
    if userlib::thread::set_affinity(1 << cpu).is_err() {
        return 1 << 31;
    }
    let mut seen = 0u32;
    let Ok(start) = time::monotonic() else {
        return 0;
    };
    let mut sink: u64 = 0;
    while time::monotonic()
        .map(|now| now.saturating_sub(start) < Duration::from_millis(PINNED_SPIN_MILLISECONDS))
        .unwrap_or(false)
    {
        for step in 0..500u64 {
            sink = sink.wrapping_mul(6364136223846793005).wrapping_add(step);
        }
        core::hint::black_box(sink);
        match current_cpu() {
            Ok(cpu) if cpu < 31 => seen |= 1 << cpu,
            _ => seen |= 1 << 30,
        }
    }
    seen
}

fn pinned_threads_stay_on_their_cpu() -> Outcome {
    use userlib::sys::error::EINVAL;
    for mask in [0u64, 1 << EXPECTED_CPUS, u64::MAX] {
        let refused = userlib::thread::set_affinity(mask).map_err(|error| error.errno);
        ensure!(
            refused == Err(EINVAL),
            "set_affinity({mask:#x}) gave {refused:?}, expected EINVAL"
        );
    }
    let last = EXPECTED_CPUS - 1;
    let mut handles = Vec::new();
    for cpu in [last, last, 1] {
        handles.push((
            cpu,
            userlib::thread::spawn(0, move || pinned_thread(cpu))
                .map_err(|error| format!("thread spawn: {error:?}"))?,
        ));
    }
    for (cpu, handle) in handles {
        let seen = handle.join().map_err(|error| format!("join: {error:?}"))?;
        ensure!(
            seen == 1 << cpu,
            "a thread pinned to CPU {cpu} saw CPUs {seen:#b} (bit 31: pinning failed)"
        );
    }
    Ok(())
}

fn threads_of_one_process_on_different_cpus() -> Outcome {
    let mut handles = Vec::new();
    for _ in 0..EXPECTED_CPUS {
        handles.push(
            userlib::thread::spawn(0, spinning_thread)
                .map_err(|error| format!("thread spawn: {error:?}"))?,
        );
    }
    let mut majorities = Vec::new();
    for handle in handles {
        let status = handle.join().map_err(|error| format!("join: {error:?}"))?;
        ensure!(status != 0, "a thread never saw its CPU");
        majorities.push(status - 1);
    }
    let all = majorities.clone();
    majorities.sort_unstable();
    majorities.dedup();
    ensure!(
        majorities.len() + 1 >= EXPECTED_CPUS,
        "{EXPECTED_CPUS} CPU-bound threads of one process ran mostly on CPUs {all:?}"
    );
    Ok(())
}

fn reader_faults_and_never_sees_the_next_owner() -> Outcome {
    let owner = child::start_as("dma-worker", "/bin/smp-unmapper", &["owner", "3000"])?;
    let reader = child::start_as("dma-worker", "/bin/smp-unmapper", &["reader"])?;
    expect_ending(
        "the reader (killed by its fault after the unmap)",
        child::wait(reader)?,
        Ending::Killed,
    )?;
    expect_ending("the next owner", child::wait(owner)?, Ending::Exited(0))
}

fn syscall_copy_from_an_unmapped_buffer_is_efault() -> Outcome {
    expect_ending(
        "smp-unmapper copier",
        child::run_as("dma-worker", "/bin/smp-unmapper", &["copier"])?,
        Ending::Exited(0),
    )
}
