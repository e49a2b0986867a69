//! `dmabench`: times, in CPU cycles, what a driver pays for the DMA path, inside the guest.
//!
//! | name | what one sample covers |
//! | --- | --- |
//! | `null_call` | `SYS_CALL` on a `bench:` descriptor (8-byte buffer): client → bench-server → client |
//! | `alloc_4k`, `alloc_1m` | `open("dma:/virtio-blk0/alloc?size=N")` + `read` of the 24-byte descriptor + `fmap` of N bytes |
//! | `free_4k`, `free_1m` | `funmap` + `close` of that buffer |
//! | `zero_4k` | writing zeros over a mapped 4 KiB write-combining buffer, then a full fence |
//! | `blk_read_4k` | one 4 KiB `read` on a `disk:/OFFSET` handle (opened and closed outside the sample) |
//! | `nvme_read_4k` | the same on an `nvme:/OFFSET` handle (the NVMe driver) |
//! | `null_call_cross_cpu` | `null_call` with dmabench pinned to CPU 0 and bench-server to CPU 1 (`SYS_SET_AFFINITY`) |
//! | `shootdown` | `funmap` of a written anonymous page while a thread of dmabench spins on every other CPU: the TLB shootdown and its acknowledgements (1,000 samples, see `measure::SHOOTDOWN_ROUNDS`; under `-icount` it includes the other CPUs' instructions meanwhile) |
//! | `boot` | one sample: kernel entry (`sys:boot`) → dmad's answer to dmabench's first `dma:` request (an upper bound on kernel entry → dmad serving) |
//! | `irq_latency` | QEMU `edu`'s interrupt-raise write → the blocking `irq:edu0` read returns (device interrupt → driver wakes) |
//!
//! Before them it times a loop of a known instruction count and prints
//! `bench-calibration instructions=N median_ticks=T`: under QEMU's `-icount` (the host's
//! `cargo xtask bench --guest --icount`) that is how many instructions one counter tick
//! stands for.
//!
//! Each runs [`ITERATIONS`] times after [`WARM_UP`] untimed rounds, unless it has used
//! [`TIME_BUDGET`] of wall-clock time by then; it never stops before [`MINIMUM_ITERATIONS`].
//! The line per result reports how many samples it took. Every allocation is freed before
//! the next, so the 8 MiB pool never runs out. `blk_read_4k` and `nvme_read_4k` are skipped
//! (a `bench-skip` line) when the image has no `disk:` or `nvme:` scheme, `irq_latency` when
//! the machine has no `edu` device (`cargo xtask bench --guest` adds one).
//!
//! Result lines go to the kernel's unprefixed console (`debug:raw`) for `cargo xtask bench
//! --guest`; a human table follows on the ordinary console. The exit status is 0 when every
//! measurement ran or was skipped, 1 when one failed (its reason is printed).
#![no_std]
#![no_main]

extern crate alloc;

mod measure;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::time::Duration;
use dmabench::summary::clock_line;
use dmabench::Summary;
use userlib::console::{self, LineWriter};
use userlib::sys::{self, flag::O_WRONLY};
use userlib::{cycles, println, Args};

userlib::entry!(main);

/// Samples per measurement.
pub const ITERATIONS: usize = 10_000;
/// Samples a measurement always takes, whatever the time.
pub const MINIMUM_ITERATIONS: usize = 1_000;
/// Untimed rounds before the samples.
pub const WARM_UP: usize = 100;
/// Wall-clock time after which a measurement stops early (once it has its minimum).
pub const TIME_BUDGET: Duration = Duration::from_secs(40);

/// Where the result lines go when the kernel offers an unprefixed console.
const RESULT_CONSOLE: &str = "debug:raw";

/// Why a measurement produced no samples.
pub enum Problem {
    /// It cannot run in this image (a missing scheme); not a failure.
    Skip(String),
    /// It went wrong.
    Fail(String),
}

/// One measurement's samples, in counter ticks, under its name.
pub type Samples = (&'static str, Vec<u64>);

/// A measurement: its samples (one list per result it reports) or why it has none.
type Measurement = fn() -> Result<Vec<Samples>, Problem>;

fn main(_args: Args) -> i32 {
    // First of all, while the figure is freshest.
    let boot = measure::boot();
    let scale = cycles::scale();
    let fd = sys::open(RESULT_CONSOLE, O_WRONLY).unwrap_or_else(|_| console::descriptor());
    let mut results = LineWriter::new(fd);
    let _ = writeln!(results, "{}", clock_line(&scale));
    let (instructions, ticks) = measure::calibrate();
    let _ = writeln!(
        results,
        "bench-calibration instructions={instructions} median_ticks={ticks}"
    );
    results.flush();

    let measurements: [(&str, Measurement); 9] = [
        ("null_call", measure::null_call),
        ("null_call_cross_cpu", measure::null_call_cross_cpu),
        ("shootdown", measure::shootdown),
        ("alloc_4k", measure::alloc_free_4k),
        ("alloc_1m", measure::alloc_free_1m),
        ("zero_4k", measure::zero_4k),
        ("blk_read_4k", measure::blk_read_4k),
        ("nvme_read_4k", measure::nvme_read_4k),
        ("irq_latency", measure::irq_latency),
    ];
    let mut table = Vec::new();
    let mut failed = false;
    let results_of = core::iter::once(("boot", boot)).chain(
        measurements
            .into_iter()
            .map(|(name, measurement)| (name, measurement())),
    );
    for (name, outcome) in results_of {
        match outcome {
            Ok(all) => {
                for (name, mut ticks) in all {
                    if let Some(summary) = Summary::from_ticks(&mut ticks, &scale) {
                        let _ = writeln!(results, "{}", summary.line(name));
                        results.flush();
                        table.push((name, summary));
                    }
                }
            }
            Err(Problem::Skip(reason)) => {
                let _ = writeln!(results, "bench-skip {name} {reason}");
                results.flush();
            }
            Err(Problem::Fail(reason)) => {
                let _ = writeln!(results, "bench-failed {name} {reason}");
                results.flush();
                failed = true;
            }
        }
    }

    println!(
        "{:<12} {:>14} {:>14} {:>10}",
        "measurement", "median cycles", "p99 cycles", "samples"
    );
    for (name, summary) in &table {
        println!(
            "{name:<12} {:>14.1} {:>14.1} {:>10}",
            summary.median_cycles, summary.p99_cycles, summary.iterations
        );
    }
    i32::from(failed)
}
