//! The `stress` guest suite: many clients hammering dmad at once, some of them dying.
//!
//! - eight workers run 10,000 random allocate / map / fill / check / unmap / close
//!   operations each, concurrently; two of them are killed at a random operation while
//!   holding buffers and mappings. Every worker checks its buffers word by word, so dmad
//!   handing out the same pages twice, or a worker's data changing under it, fails the run;
//!   the pool must be exactly as before at the end;
//! - twenty rounds of eight short workers, each killed at a random point with probability
//!   one half, each round leaving the pool whole;
//! - dmad is alive at the end, its free space is one contiguous run again (everything
//!   coalesced) and the largest size-aligned block it reports can really be allocated.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;
use dma_tests::buffer::Buffer;
use dma_tests::{stats, text, DEVICE, PAGE_SIZE};
use process_tests::check::{expect_ending, Outcome};
use process_tests::child;
use process_tests::runner::Suite;
use userlib::sys::Ending;
use userlib::{time, Args};

userlib::entry!(main);

fn main(_args: Args) -> i32 {
    let mut suite = Suite::new("stress");
    suite.run(
        "eight_workers_ten_thousand_operations_each_with_kills",
        eight_workers_with_kills,
    );
    suite.run("kill_rounds_leave_the_pool_whole", kill_rounds);
    suite.run(
        "dmad_alive_and_its_free_space_coalesces",
        dmad_alive_and_coalesced,
    );
    suite.finish()
}

/// A seed from the clock, so each run kills at different points (printed for reruns).
fn seed() -> u64 {
    let now = time::monotonic()
        .map(|duration| duration.as_nanos() as u64)
        .unwrap_or(1);
    now.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1
}

fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Starts `workers` workers of `operations` operations; `die` says at which operation each
/// dies, if it does. Waits for all and checks each ended as planned.
fn run_workers(workers: &[(u64, u64, Option<u64>)]) -> Outcome {
    let mut started = Vec::new();
    for (id, operations, die) in workers {
        let mut arguments = alloc::vec![id.to_string(), operations.to_string()];
        if let Some(die) = die {
            arguments.push(die.to_string());
        }
        let arguments: Vec<&str> = arguments.iter().map(|argument| argument.as_str()).collect();
        started.push((
            *id,
            *die,
            child::start_as("dma-worker", "/bin/dma-worker", &arguments)?,
        ));
    }
    for (id, die, pid) in started {
        let expected = if die.is_some() {
            Ending::Killed
        } else {
            Ending::Exited(0)
        };
        expect_ending(
            &format!("dma-worker {id} (dies at {die:?})"),
            child::wait(pid)?,
            expected,
        )?;
    }
    Ok(())
}

fn eight_workers_with_kills() -> Outcome {
    let before = stats::read(DEVICE)?;
    let mut state = seed();
    userlib::println!("stress seed {state:#x}");
    let doomed = [1 + next(&mut state) % 8, 1 + next(&mut state) % 8];
    let workers: Vec<_> = (1..=8)
        .map(|id| {
            (
                id,
                10_000,
                doomed.contains(&id).then(|| next(&mut state) % 10_000),
            )
        })
        .collect();
    run_workers(&workers)?;
    stats::settle(DEVICE, before, "after eight workers, two of them killed")
}

fn kill_rounds() -> Outcome {
    let before = stats::read(DEVICE)?;
    let mut state = seed();
    for round in 1..=20 {
        let workers: Vec<_> = (1..=8)
            .map(|id| {
                (
                    100 + id,
                    300,
                    next(&mut state)
                        .is_multiple_of(2)
                        .then(|| next(&mut state) % 300),
                )
            })
            .collect();
        run_workers(&workers).map_err(|reason| format!("round {round}: {reason}"))?;
        stats::settle(DEVICE, before, &format!("after kill round {round}"))?;
    }
    Ok(())
}

fn dmad_alive_and_coalesced() -> Outcome {
    let processes =
        text::read_text("sys:processes").map_err(|error| format!("sys:processes: {error}"))?;
    let dmad_running = processes
        .lines()
        .any(|line| line.contains(" dmad ") && !line.contains("Exited"));
    if !dmad_running {
        return Err(format!("dmad is not running:\n{processes}"));
    }
    let before = stats::read(DEVICE)?;
    let text = text::read_text(&stats::path(DEVICE)).map_err(|error| format!("stats: {error}"))?;
    let run = text::number_of(&text, "largest-free-run").ok_or("stats lack largest-free-run")?;
    let block =
        text::number_of(&text, "largest-free-block").ok_or("stats lack largest-free-block")?;
    if run != before.free_pages {
        return Err(format!(
            "free space is not one run: largest run {run} of {} free pages",
            before.free_pages
        ));
    }
    let largest = Buffer::allocate(DEVICE, block as usize * PAGE_SIZE).map_err(|error| {
        format!("the largest free block ({block} pages) as one buffer: {error}")
    })?;
    drop(largest);
    stats::settle(DEVICE, before, "after the largest-block buffer")
}
