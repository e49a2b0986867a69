//! Other processes: one that takes the whole pool, holders that exit or crash with buffers,
//! and workers allocating concurrently. The pool must come back whole every time.

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;
use dma_tests::{stats, DEVICE};
use process_tests::check::{expect_ending, Outcome};
use process_tests::child;
use userlib::sys::Ending;

/// How many times each holder test runs its holder.
const HOLDER_ROUNDS: u32 = 100;
/// Buffers each holder holds.
const HOLDER_BUFFERS: &str = "50";
/// Concurrent workers.
const WORKERS: u64 = 4;
/// Operations (allocations plus releases) of all workers together.
const WORKER_OPERATIONS: u64 = 10_000;

/// Runs `program` with `args` and the rights of the manifest section named after its file,
/// expects `ending`, and then the pool as it was before.
fn run_and_settle(program: &str, args: &[&str], ending: Ending) -> Outcome {
    let before = stats::read(DEVICE)?;
    let what = format!("{program} {}", args.join(" "));
    let section = program.rsplit('/').next().unwrap_or(program);
    expect_ending(&what, child::run_as(section, program, args)?, ending)?;
    stats::settle(DEVICE, before, &format!("after {what}"))
}

/// Asking beyond the pool and from the exhausted pool is `ENOMEM` (see `dma-hog exhaust`).
pub fn exhausted_pool_is_enomem() -> Outcome {
    run_and_settle("/bin/dma-hog", &["exhaust"], Ending::Exited(0))
}

/// A buffer closed while mapped is not handed out again until unmapped (see `dma-hog
/// closed-mapped`).
pub fn closed_mapped_buffer_is_not_reused() -> Outcome {
    run_and_settle("/bin/dma-hog", &["closed-mapped"], Ending::Exited(0))
}

/// A holder that exits with 50 buffers (some mapped) gives all of them back, 100 times.
pub fn exiting_holders_return_their_buffers() -> Outcome {
    holders("exit", Ending::Exited(0))
}

/// A holder killed for a fault with 50 buffers gives all of them back, 100 times.
pub fn crashing_holders_return_their_buffers() -> Outcome {
    holders("crash", Ending::Killed)
}

fn holders(mode: &str, ending: Ending) -> Outcome {
    for round in 1..=HOLDER_ROUNDS {
        run_and_settle("/bin/dma-holder", &[HOLDER_BUFFERS, mode], ending)
            .map_err(|reason| format!("round {round}: {reason}"))?;
    }
    Ok(())
}

/// Four workers, 10,000 allocations and releases in all, never see each other's data, and
/// the pool is whole afterwards.
pub fn concurrent_workers_keep_their_buffers() -> Outcome {
    let before = stats::read(DEVICE)?;
    let operations = (WORKER_OPERATIONS / WORKERS).to_string();
    let mut workers = Vec::new();
    for id in 1..=WORKERS {
        let id = id.to_string();
        let pid = child::start_as("dma-worker", "/bin/dma-worker", &[&id, &operations])?;
        workers.push((id, pid));
    }
    let mut endings = Vec::new();
    for (id, pid) in workers {
        endings.push((id, child::wait(pid)?));
    }
    for (id, ending) in endings {
        expect_ending(&format!("dma-worker {id}"), ending, Ending::Exited(0))?;
    }
    stats::settle(DEVICE, before, "after the workers")
}
