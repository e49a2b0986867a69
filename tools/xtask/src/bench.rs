//! `cargo xtask bench`: the host benchmarks, and with `--guest` the in-guest one.
//!
//! `bench` runs the host benchmarks: the DMA pool allocator's and small-block pool's
//! (`cargo bench -p dma-pool`) and dmad's request handling (`cargo bench -p dmad`).
//!
//! `bench --guest [--arch A]` boots, per CPU, an image that starts dmad, the `disk:` and
//! `nvme:` drivers when the default image has them, `bench-server` (serving `bench:`) and `dmabench` (granted
//! the block device's pool, no quota, and QEMU's `edu` device, which the machine gets for
//! `irq_latency`). It is a test image (`test-suite = "bench"`), so init powers off when
//! dmabench ends (aarch64: GICv2, with its v2m MSI frame, unless `COHERENT_GIC=3`); it is not one of `cargo xtask test`'s suites. xtask reads
//! dmabench's `bench-clock`, `bench-calibration`, `bench NAME ...`, `bench-skip` and
//! `bench-failed` lines, prints a table per run and writes `target/bench/guest-ARCH.json`: an
//! array of `{"name", "accel", "median_cycles", "p99_cycles", "iterations"}`, plus
//! `"median_instructions"` and `"p99_instructions"` on the rows of an `icount` run.
//!
//! Each JSON file gets a picture beside it (`dma-pool.svg`, `guest-ARCH.svg`; see `svg.rs`);
//! `bench --pictures` draws them again from the JSON files without measuring.
//!
//! ## Two modes ([`Mode`])
//!
//! - **Cycles** (`accel` `kvm` or `tcg`): the machine runs under the best accelerator. Under
//!   KVM on real hardware the counter's cycles are the CPU's; under TCG (QEMU's binary
//!   translator) they are wall-clock time of the translated code scaled to cycles, which
//!   says little about hardware.
//! - **Instructions** (`accel` `icount`): TCG with `-icount shift=0,align=off`, where QEMU's
//!   virtual clock advances exactly 1 ns per guest instruction executed (shift 0) and never
//!   waits for the host's clock (no alignment). The guest's counter then counts
//!   instructions: x86_64's TSC ticks once per nanosecond of the virtual clock, so
//!   **1 instruction per tick**; aarch64's CNTVCT ticks at CNTFRQ (62.5 MHz on `virt`), so
//!   **16 instructions per tick** (1e9 / CNTFRQ): that is each CPU's resolution.
//!   [`instructions_per_tick`] takes the figure from the `bench-clock` line, and the run
//!   checks it against dmabench's calibration loop of a known instruction count (within 5%,
//!   or the run fails). The counts are deterministic: two runs of each CPU gave the same
//!   median for every operation, and the same p99 for all but the disk reads, whose device
//!   completes on the host's clock (the idle guest's virtual clock follows the host's while it
//!   waits), so their tail varies from run to run.
//!
//! `cargo xtask bench --guest` runs both modes on each CPU, cycles first; `--icount` runs
//! only the instruction mode and `--no-icount` only the cycles mode. A run that does one
//! mode keeps the other mode's rows already in the JSON file, so the file always holds the
//! latest rows of each.

use crate::guest::{self, Profile};
use crate::{fail, workspace_root, Result};
use harness::protocol::{untagged, Ending};
use harness::Arch;
use std::fmt::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// How long a guest benchmark run may take (TCG; every measurement has its own time
/// budget inside the guest).
const DEADLINE: Duration = Duration::from_secs(600);

/// The processes of the benchmark image after the default image's services it keeps.
pub const BENCH_PROCESSES: &str = r#"
# The null server dmabench times scheme calls against.
[process.bench-server]
path = "/bin/bench-server"
schemes = ["bench"]

# The benchmark: granted the block device's pool, without a quota, and QEMU's `edu` device
# (its interrupt is `irq_latency`'s source).
[process.dmabench]
path = "/bin/dmabench"
devices = ["virtio-blk0", "edu0"]
"#;

/// The default image's processes the benchmark image keeps: the DMA server and, when the
/// image has them, the block drivers serving `disk:` and `nvme:`.
const KEPT_SERVICES: [&str; 3] = ["dmad", "virtio-blk", "nvme"];

/// The host benchmarks.
pub fn host() -> Result<()> {
    let status = Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args(["bench", "--package", "dma-pool", "--package", "dmad"])
        .status()
        .map_err(|error| format!("cannot run cargo bench: {error}"))?;
    if status.success() {
        let json = pool_json_path();
        let text = std::fs::read_to_string(&json)
            .map_err(|error| format!("cannot read {}: {error}", json.display()))?;
        let picture = json.with_extension("svg");
        std::fs::write(&picture, crate::svg::pool_chart(&text))
            .map_err(|error| format!("cannot write {}: {error}", picture.display()))?;
        println!("results: {} and {}", json.display(), picture.display());
        for name in ["dma-pool-blocks.json", "dmad-request.json"] {
            println!("results: {}", bench_directory().join(name).display());
        }
        Ok(())
    } else {
        fail(format!("cargo bench failed ({status})"))
    }
}

/// `bench --pictures`: draws the SVG beside each benchmark JSON file there is
/// (`dma-pool.json`, `guest-ARCH.json`) again, without measuring anything.
pub fn redraw() -> Result<()> {
    let mut drawn = 0;
    let pool = pool_json_path();
    if let Ok(text) = std::fs::read_to_string(&pool) {
        write_picture(&pool, &crate::svg::pool_chart(&text))?;
        drawn += 1;
    }
    for arch in Arch::ALL {
        let path = bench_directory().join(format!("guest-{}.json", arch.name()));
        if let Ok(text) = std::fs::read_to_string(&path) {
            write_picture(&path, &crate::svg::guest_chart(arch.name(), &text))?;
            drawn += 1;
        }
    }
    if drawn == 0 {
        return fail("no benchmark results to draw: run cargo xtask bench first");
    }
    Ok(())
}

/// Writes `svg` beside `json` (same name, `.svg`).
fn write_picture(json: &std::path::Path, svg: &str) -> Result<()> {
    let picture = json.with_extension("svg");
    std::fs::write(&picture, svg)
        .map_err(|error| format!("cannot write {}: {error}", picture.display()))?;
    println!("picture: {}", picture.display());
    Ok(())
}

/// Where the host benchmark writes its JSON: under `CARGO_TARGET_DIR` when that is set (see
/// its `output.rs`), else `target/bench`.
fn pool_json_path() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|target| workspace_root().join(target).join("bench"))
        .unwrap_or_else(bench_directory)
        .join("dma-pool.json")
}

fn bench_directory() -> PathBuf {
    workspace_root().join("target").join("bench")
}

/// How a guest benchmark run is clocked (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The best accelerator; results in cycles, marked `kvm` or `tcg`.
    Cycles,
    /// TCG with `-icount shift=0,align=off`; results in instructions too, marked `icount`.
    Instructions,
}

impl Mode {
    /// Both, in the order a default run takes them.
    pub const ALL: [Mode; 2] = [Mode::Cycles, Mode::Instructions];
}

/// QEMU's instruction counting: 2^0 ns of virtual time per instruction, no sleeping to keep
/// the virtual clock near the host's.
pub const ICOUNT_ARGUMENTS: [&str; 2] = ["-icount", "shift=0,align=off"];

/// The largest relative difference allowed between the calibration loop's measured
/// instructions per tick and [`instructions_per_tick`]'s.
const CALIBRATION_TOLERANCE: f64 = 0.05;

/// One result line from the guest, with the accelerator it ran under.
#[derive(Clone, Debug, PartialEq)]
pub struct GuestResult {
    /// `null_call`, `alloc_4k`, ...
    pub name: String,
    /// Median, in cycles.
    pub median_cycles: f64,
    /// 99th percentile, in cycles.
    pub p99_cycles: f64,
    /// Samples taken.
    pub iterations: u64,
    /// Median and 99th percentile in instructions (an `icount` run only).
    pub instructions: Option<(f64, f64)>,
}

/// What dmabench printed.
#[derive(Debug, Default, PartialEq)]
pub struct Report {
    /// The `bench-clock` line's fields (how ticks became cycles).
    pub clock: Option<String>,
    /// The `bench-calibration` line: (instructions of the loop, median ticks it took).
    pub calibration: Option<(u64, u64)>,
    /// The results, in order.
    pub results: Vec<GuestResult>,
    /// `bench-skip` and `bench-failed` lines: (name, reason, failed).
    pub not_measured: Vec<(String, String, bool)>,
}

/// Reads dmabench's lines out of a run's console output (with or without the console's
/// `[dmabench] ` tag).
pub fn parse(output: &str) -> Report {
    let mut report = Report::default();
    for line in output.lines().map(|line| untagged(line.trim())) {
        if let Some(fields) = line.strip_prefix("bench-clock ") {
            report.clock = Some(fields.to_string());
        } else if let Some(fields) = line.strip_prefix("bench-calibration ") {
            let instructions = field(fields, "instructions").and_then(|v| v.parse().ok());
            let ticks = field(fields, "median_ticks").and_then(|v| v.parse().ok());
            report.calibration = instructions.zip(ticks);
        } else if let Some(rest) = line.strip_prefix("bench-skip ") {
            let (name, reason) = rest.split_once(' ').unwrap_or((rest, ""));
            report
                .not_measured
                .push((name.into(), reason.into(), false));
        } else if let Some(rest) = line.strip_prefix("bench-failed ") {
            let (name, reason) = rest.split_once(' ').unwrap_or((rest, ""));
            report.not_measured.push((name.into(), reason.into(), true));
        } else if let Some(rest) = line.strip_prefix("bench ") {
            if let Some(result) = parse_result(rest) {
                report.results.push(result);
            }
        }
    }
    report
}

/// `NAME median_cycles=X p99_cycles=Y iterations=N`.
fn parse_result(text: &str) -> Option<GuestResult> {
    let mut words = text.split_whitespace();
    let name = words.next()?.to_string();
    let (mut median, mut p99, mut iterations) = (None, None, None);
    for word in words {
        match word.split_once('=')? {
            ("median_cycles", value) => median = value.parse().ok(),
            ("p99_cycles", value) => p99 = value.parse().ok(),
            ("iterations", value) => iterations = value.parse().ok(),
            _ => {}
        }
    }
    Some(GuestResult {
        name,
        median_cycles: median?,
        p99_cycles: p99?,
        iterations: iterations?,
        instructions: None,
    })
}

/// The value of `NAME=VALUE` among the space-separated `fields`.
fn field<'a>(fields: &'a str, name: &str) -> Option<&'a str> {
    fields
        .split_whitespace()
        .find_map(|word| word.strip_prefix(name)?.strip_prefix('='))
}

/// How many instructions one tick of the counter named in the `bench-clock` line `clock`
/// stands for under `-icount shift=0` (one instruction per nanosecond of virtual time): 1
/// for the TSC (it ticks in nanoseconds of the virtual clock), 1e9 / `counter_hz` for a
/// counter that states its frequency (aarch64's CNTVCT: 16 at 62.5 MHz).
pub fn instructions_per_tick(clock: &str) -> Option<f64> {
    match field(clock, "counter")? {
        "tsc" => Some(1.0),
        _ => {
            let hertz: f64 = field(clock, "counter_hz")?.parse().ok()?;
            (hertz > 0.0).then(|| 1e9 / hertz)
        }
    }
}

/// Fills in every result's instructions from its cycles for an `icount` run: ticks are
/// cycles / `cycles_per_tick`, instructions are ticks × [`instructions_per_tick`]. Checks
/// that figure against the calibration loop first; returns the measured instructions per
/// tick, or why the report cannot be read in instructions.
pub fn add_instructions(report: &mut Report) -> Result<f64> {
    let clock = report
        .clock
        .clone()
        .ok_or("no bench-clock line, so no scale for instructions")?;
    let per_tick = instructions_per_tick(&clock)
        .ok_or_else(|| format!("cannot tell instructions per tick from `{clock}`"))?;
    let cycles_per_tick: f64 = field(&clock, "cycles_per_tick")
        .and_then(|value| value.parse().ok())
        .filter(|value: &f64| *value > 0.0)
        .ok_or_else(|| format!("no cycles_per_tick in `{clock}`"))?;
    let (loop_instructions, loop_ticks) = report
        .calibration
        .ok_or("no bench-calibration line to check instructions per tick against")?;
    let measured = loop_instructions as f64 / loop_ticks.max(1) as f64;
    if (measured - per_tick).abs() > CALIBRATION_TOLERANCE * per_tick {
        return fail(format!(
            "the calibration loop of {loop_instructions} instructions took {loop_ticks} ticks \
             ({measured:.2} instructions per tick), not the {per_tick} expected: is QEMU \
             counting instructions (-icount shift=0)?"
        ));
    }
    for result in &mut report.results {
        let instructions = |cycles: f64| (cycles / cycles_per_tick * per_tick).round();
        result.instructions = Some((
            instructions(result.median_cycles),
            instructions(result.p99_cycles),
        ));
    }
    Ok(measured)
}

/// The results as the JSON array `target/bench/guest-ARCH.json` holds.
pub fn to_json(results: &[GuestResult], accel: &str) -> String {
    let mut json = String::from("[\n");
    for (index, result) in results.iter().enumerate() {
        let _ = write!(
            json,
            "  {{\"name\": \"{}\", \"accel\": \"{accel}\", \"median_cycles\": {:.1}, \"p99_cycles\": {:.1}, \"iterations\": {}",
            result.name.escape_default(),
            result.median_cycles,
            result.p99_cycles,
            result.iterations
        );
        if let Some((median, p99)) = result.instructions {
            let _ = write!(
                json,
                ", \"median_instructions\": {median:.0}, \"p99_instructions\": {p99:.0}"
            );
        }
        json.push('}');
        json.push_str(if index + 1 < results.len() {
            ",\n"
        } else {
            "\n"
        });
    }
    json.push_str("]\n");
    json
}

/// The rows of a JSON file [`to_json`] wrote (one object per line) whose accelerator is not
/// one of `replaced`: what a run of other modes keeps.
pub fn kept_rows(json: &str, replaced: &[&str]) -> Vec<String> {
    json.lines()
        .map(|line| line.trim().trim_end_matches(','))
        .filter(|line| line.starts_with('{'))
        .filter(|line| {
            !replaced
                .iter()
                .any(|accel| line.contains(&format!("\"accel\": \"{accel}\"")))
        })
        .map(str::to_string)
        .collect()
}

/// Joins JSON objects, one per line, into an array.
pub fn join_rows(rows: &[String]) -> String {
    let mut json = String::from("[\n");
    for (index, row) in rows.iter().enumerate() {
        json.push_str("  ");
        json.push_str(row);
        json.push_str(if index + 1 < rows.len() { ",\n" } else { "\n" });
    }
    json.push_str("]\n");
    json
}

/// The benchmark image's manifest: the default one's `[image]` made a test image for suite
/// `bench`, its pools, the services in [`KEPT_SERVICES`] it declares, and
/// [`BENCH_PROCESSES`].
///
/// dmad runs with its debug mode off (`--debug=off`: no poison fill at free, no check at
/// reuse), so the rows measure the allocation path a production image has; set
/// `COHERENT_DMAD_DEBUG=on` to measure with it (the default and test images keep it on).
pub fn bench_manifest() -> Result<String> {
    let mut services = guest::test_manifest("bench", &KEPT_SERVICES)?;
    if std::env::var("COHERENT_DMAD_DEBUG").as_deref() != Ok("on") {
        let section = "[process.dmad]\npath = \"/bin/dmad\"\n";
        let Some(at) = services.find(section) else {
            return fail("the default manifest has no [process.dmad] section for the bench");
        };
        services.insert_str(at + section.len(), "args = [\"--debug=off\"]\n");
    }
    Ok(format!("{services}{BENCH_PROCESSES}"))
}

/// Boots the benchmark image on each of `arches` once per mode in `modes`, prints the tables
/// and writes the JSON.
pub fn guest_run(arches: &[Arch], profile: Profile, modes: &[Mode]) -> Result<()> {
    let manifest = bench_manifest()?;
    for &arch in arches {
        let kernel = guest::build_kernel(arch, profile, guest::Kernel::Test)?;
        let programs = crate::user::user_programs(arch, profile)?;
        let stem = format!("bench-{}", arch.name());
        let initrd = guest::guest_target_directory()
            .join("images")
            .join(format!("{stem}.cpio"));
        guest::build_initfs(&manifest, &initrd, &programs)?;
        if arch == Arch::X86_64 {
            if let Some(reason) = harness::qemu::confirm_kvm(&kernel, &initrd) {
                println!(
                    "xtask: /dev/kvm is present but cannot run coherent here ({reason}); using TCG"
                );
            }
        }
        let path = bench_directory().join(format!("guest-{}.json", arch.name()));
        let mut written: Vec<&str> = Vec::new();
        let mut rows = Vec::new();
        for &mode in modes {
            let (accel, report) = guest_run_once(arch, &kernel, &initrd, &stem, mode)?;
            rows.extend(kept_rows(&to_json(&report.results, accel), &[]));
            written.push(accel);
        }
        // The rows of the modes not run this time stay (a KVM host writes `kvm` rows, a
        // TCG host `tcg` ones; a cycles run replaces both).
        if modes.contains(&Mode::Cycles) {
            written.extend(["kvm", "tcg"]);
        }
        let mut all = std::fs::read_to_string(&path)
            .map(|old| kept_rows(&old, &written))
            .unwrap_or_default();
        all.extend(rows);
        std::fs::create_dir_all(bench_directory())
            .map_err(|error| format!("cannot create {}: {error}", bench_directory().display()))?;
        let json = join_rows(&all);
        std::fs::write(&path, &json)
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
        let picture = path.with_extension("svg");
        std::fs::write(&picture, crate::svg::guest_chart(arch.name(), &json))
            .map_err(|error| format!("cannot write {}: {error}", picture.display()))?;
        println!("results: {} and {}", path.display(), picture.display());
    }
    Ok(())
}

/// One boot of the benchmark image on `arch` in `mode`: its accelerator's name (`kvm`,
/// `tcg` or `icount`) and what dmabench reported, instructions filled in for `icount`.
fn guest_run_once(
    arch: Arch,
    kernel: &std::path::Path,
    initrd: &std::path::Path,
    stem: &str,
    mode: Mode,
) -> Result<(&'static str, Report)> {
    let disk = guest::guest_target_directory()
        .join("images")
        .join(format!("{stem}.img"));
    crate::disk::create(&disk)?;
    let mut machine = crate::machine_with_gic(
        arch,
        kernel.to_path_buf(),
        initrd.to_path_buf(),
        &disk,
        stem,
        crate::test::gic_override().unwrap_or(harness::GicVersion::V2),
        crate::platform::Platform::Default,
    )?;
    // `irq_latency`'s interrupt source.
    machine.extra.extend(
        crate::test::EDU_DEVICE
            .iter()
            .map(|argument| argument.to_string()),
    );
    let accel = match mode {
        Mode::Cycles => machine.accelerator.name(),
        Mode::Instructions => {
            if machine.accelerator != harness::Accelerator::Tcg {
                // Instruction counting is TCG's; KVM's CPU model would not fit it.
                machine.accelerator = harness::Accelerator::Tcg;
                machine.cpu = "max".into();
            }
            machine
                .extra
                .extend(ICOUNT_ARGUMENTS.iter().map(|argument| argument.to_string()));
            "icount"
        }
    };
    println!("\n=== guest benchmark on {} ({accel})", arch.name());
    let run = harness::run(&machine, DEADLINE, |line| {
        if untagged(line).starts_with("bench") {
            println!("{line}");
        }
    })
    .map_err(|error| format!("cannot start {}: {error}", arch.qemu_binary()))?;
    let mut report = parse(&run.output);
    let calibration = match mode {
        Mode::Instructions => Some(add_instructions(&mut report)?),
        Mode::Cycles => None,
    };
    print_table(arch, accel, &report, calibration);
    println!("{} run: {:.0} s", accel, run.elapsed.as_secs_f64());
    if run.ending != Ending::Exited(arch.success_status()) || report.results.is_empty() {
        let last = run.output.lines().rev().take(15).collect::<Vec<_>>();
        let last: Vec<&str> = last.into_iter().rev().collect();
        return fail(format!(
            "the {} benchmark guest ({accel}) ended with {:?}; its last lines:\n{}",
            arch.name(),
            run.ending,
            last.join("\n")
        ));
    }
    if report.not_measured.iter().any(|(_, _, failed)| *failed) {
        return fail(format!("a {} measurement failed ({accel})", arch.name()));
    }
    Ok((accel, report))
}

fn print_table(arch: Arch, accel: &str, report: &Report, calibration: Option<f64>) {
    println!(
        "\n{} ({accel}; {})",
        arch.name(),
        report.clock.as_deref().unwrap_or("no bench-clock line")
    );
    if let Some(measured) = calibration {
        println!("calibration loop: {measured:.3} instructions per counter tick");
    }
    println!(
        "{:<12} {:<6} {:>14} {:>14} {:>10} {:>13} {:>13}",
        "name", "accel", "median cycles", "p99 cycles", "iterations", "median instr", "p99 instr"
    );
    for result in &report.results {
        let (median, p99) = match result.instructions {
            Some((median, p99)) => (format!("{median:.0}"), format!("{p99:.0}")),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{:<12} {accel:<6} {:>14.1} {:>14.1} {:>10} {median:>13} {p99:>13}",
            result.name, result.median_cycles, result.p99_cycles, result.iterations
        );
    }
    for (name, reason, failed) in &report.not_measured {
        let what = if *failed { "FAILED" } else { "skipped" };
        println!("{name:<12} {what}: {reason}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\
[init] starting dmabench
bench-clock counter=tsc cycles_per_tick=1
[dmabench] bench null_call median_cycles=1234.5 p99_cycles=2000.0 iterations=10000
bench alloc_4k median_cycles=9000.0 p99_cycles=12000.0 iterations=10000
bench-skip blk_read_4k no disk: scheme in this image
bench broken median_cycles=x
";

    #[test]
    fn reads_the_result_lines() {
        let report = parse(OUTPUT);
        assert_eq!(
            report.clock.as_deref(),
            Some("counter=tsc cycles_per_tick=1")
        );
        assert_eq!(report.results.len(), 2);
        assert_eq!(
            report.results[0],
            GuestResult {
                name: "null_call".into(),
                median_cycles: 1234.5,
                p99_cycles: 2000.0,
                iterations: 10000,
                instructions: None,
            }
        );
        assert_eq!(
            report.not_measured,
            vec![(
                "blk_read_4k".into(),
                "no disk: scheme in this image".into(),
                false
            )]
        );
    }

    #[test]
    fn writes_the_json_array() {
        let json = to_json(&parse(OUTPUT).results, "tcg");
        assert_eq!(
            json,
            "[\n  {\"name\": \"null_call\", \"accel\": \"tcg\", \"median_cycles\": 1234.5, \"p99_cycles\": 2000.0, \"iterations\": 10000},\n  {\"name\": \"alloc_4k\", \"accel\": \"tcg\", \"median_cycles\": 9000.0, \"p99_cycles\": 12000.0, \"iterations\": 10000}\n]\n"
        );
        assert_eq!(to_json(&[], "kvm"), "[\n]\n");
    }

    #[test]
    fn icount_runs_get_instructions_from_ticks() {
        let mut report = parse(OUTPUT);
        // The TSC: one instruction per tick.
        report.calibration = Some((100_000, 100_040));
        assert_eq!(add_instructions(&mut report).map(|m| m > 0.99), Ok(true));
        assert_eq!(report.results[0].instructions, Some((1235.0, 2000.0)));
        let json = to_json(&report.results[..1], "icount");
        assert!(json.contains(
            "\"accel\": \"icount\", \"median_cycles\": 1234.5, \"p99_cycles\": 2000.0, \"iterations\": 10000, \"median_instructions\": 1235, \"p99_instructions\": 2000}"
        ));
        // CNTVCT at 62.5 MHz scaled to 32 cycles a tick: 16 instructions a tick.
        let clock =
            "counter=cntvct counter_hz=62500000 nominal_cpu_hz=2000000000 cycles_per_tick=32";
        assert_eq!(instructions_per_tick(clock), Some(16.0));
        let mut aarch64 = parse(&format!(
            "bench-clock {clock}\nbench-calibration instructions=100000 median_ticks=6250\nbench null_call median_cycles=3200.0 p99_cycles=6400.0 iterations=5\n"
        ));
        assert_eq!(add_instructions(&mut aarch64), Ok(16.0));
        assert_eq!(aarch64.results[0].instructions, Some((1600.0, 3200.0)));
        // A calibration that disagrees (QEMU not counting instructions) is refused.
        aarch64.calibration = Some((100_000, 100));
        assert!(add_instructions(&mut aarch64).is_err());
        report.calibration = None;
        assert!(add_instructions(&mut report).is_err());
    }

    #[test]
    fn a_run_of_one_mode_keeps_the_other_modes_rows() {
        let report = parse(OUTPUT);
        let old = join_rows(
            &[
                kept_rows(&to_json(&report.results, "tcg"), &[]),
                kept_rows(&to_json(&report.results[..1], "icount"), &[]),
            ]
            .concat(),
        );
        let kept = kept_rows(&old, &["icount"]);
        assert_eq!(kept.len(), 2);
        assert!(kept.iter().all(|row| row.contains("\"tcg\"")));
        assert_eq!(join_rows(&kept), to_json(&report.results, "tcg"));
    }

    #[test]
    fn the_bench_manifest_keeps_dmad_and_adds_the_benchmark() {
        let text = bench_manifest().unwrap();
        let manifest = image::manifest::Manifest::parse(&text).unwrap();
        manifest.validate().unwrap();
        assert_eq!(manifest.image().unwrap().test_suite, Some("bench"));
        let names: Vec<&str> = manifest.processes().map(|p| p.unwrap().name).collect();
        assert_eq!(names.first(), Some(&"dmad"));
        assert_eq!(&names[names.len() - 2..], ["bench-server", "dmabench"]);
        assert!(!names.contains(&"dmastat"));
        assert!(manifest.pools().count() >= 1);
        if std::env::var("COHERENT_DMAD_DEBUG").as_deref() != Ok("on") {
            assert!(text.contains("path = \"/bin/dmad\"\nargs = [\"--debug=off\"]\n"));
        }
    }
}
