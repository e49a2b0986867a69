//! `cargo xtask bench`: the host benchmarks, and with `--guest` the in-guest one.
//!
//! `bench` runs the DMA pool allocator's host benchmark (`cargo bench -p dma-pool`).
//!
//! `bench --guest [--arch A]` boots, per CPU, an image that starts dmad, the `disk:` and
//! `nvme:` drivers when the default image has them, `bench-server` (serving `bench:`) and `dmabench` (granted
//! the block device's pool, no quota, and QEMU's `edu` device, which the machine gets for
//! `irq_latency`). It is a test image (`test-suite = "bench"`), so init
//! powers off when dmabench ends (aarch64: GICv2, with its v2m MSI frame, unless
//! `COHERENT_GIC=3`); it is not one of `cargo xtask test`'s suites. xtask reads
//! dmabench's `bench-clock`, `bench NAME ...`, `bench-skip` and `bench-failed` lines, prints a
//! table marked with the accelerator (`kvm` or `tcg`) and writes
//! `target/bench/guest-ARCH.json`: an array of
//! `{"name", "accel", "median_cycles", "p99_cycles", "iterations"}`.

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
        .args(["bench", "--package", "dma-pool"])
        .status()
        .map_err(|error| format!("cannot run cargo bench: {error}"))?;
    if status.success() {
        println!(
            "results: {}",
            bench_directory().join("dma-pool.json").display()
        );
        Ok(())
    } else {
        fail(format!("cargo bench failed ({status})"))
    }
}

fn bench_directory() -> PathBuf {
    workspace_root().join("target").join("bench")
}

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
}

/// What dmabench printed.
#[derive(Debug, Default, PartialEq)]
pub struct Report {
    /// The `bench-clock` line's fields (how ticks became cycles).
    pub clock: Option<String>,
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
    })
}

/// The results as the JSON array `target/bench/guest-ARCH.json` holds.
pub fn to_json(results: &[GuestResult], accel: &str) -> String {
    let mut json = String::from("[\n");
    for (index, result) in results.iter().enumerate() {
        let _ = write!(
            json,
            "  {{\"name\": \"{}\", \"accel\": \"{accel}\", \"median_cycles\": {:.1}, \"p99_cycles\": {:.1}, \"iterations\": {}}}",
            result.name.escape_default(),
            result.median_cycles,
            result.p99_cycles,
            result.iterations
        );
        json.push_str(if index + 1 < results.len() {
            ",\n"
        } else {
            "\n"
        });
    }
    json.push_str("]\n");
    json
}

/// The benchmark image's manifest: the default one's `[image]` made a test image for suite
/// `bench`, its pools, the services in [`KEPT_SERVICES`] it declares, and
/// [`BENCH_PROCESSES`].
pub fn bench_manifest() -> Result<String> {
    Ok(format!(
        "{}{BENCH_PROCESSES}",
        guest::test_manifest("bench", &KEPT_SERVICES)?
    ))
}

/// Boots the benchmark image on each of `arches`, prints the tables and writes the JSON.
pub fn guest_run(arches: &[Arch], profile: Profile) -> Result<()> {
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
        let disk = guest::guest_target_directory()
            .join("images")
            .join(format!("{stem}.img"));
        crate::disk::create(&disk)?;
        let mut machine = crate::machine_with_gic(
            arch,
            kernel,
            initrd,
            &disk,
            &stem,
            crate::test::gic_override().unwrap_or(harness::GicVersion::V2),
            crate::platform::Platform::Default,
        )?;
        // `irq_latency`'s interrupt source.
        machine
            .extra
            .extend(crate::test::EDU_DEVICE.iter().map(|argument| argument.to_string()));
        let accel = machine.accelerator.name();
        println!("\n=== guest benchmark on {} ({accel})", arch.name());
        let run = harness::run(&machine, DEADLINE, |line| {
            if untagged(line).starts_with("bench") {
                println!("{line}");
            }
        })
        .map_err(|error| format!("cannot start {}: {error}", arch.qemu_binary()))?;
        let report = parse(&run.output);
        print_table(arch, accel, &report);
        let path = bench_directory().join(format!("guest-{}.json", arch.name()));
        std::fs::create_dir_all(bench_directory())
            .map_err(|error| format!("cannot create {}: {error}", bench_directory().display()))?;
        std::fs::write(&path, to_json(&report.results, accel))
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
        println!(
            "results: {} ({:.0} s)",
            path.display(),
            run.elapsed.as_secs_f64()
        );
        if run.ending != Ending::Exited(arch.success_status()) || report.results.is_empty() {
            let last = run.output.lines().rev().take(15).collect::<Vec<_>>();
            let last: Vec<&str> = last.into_iter().rev().collect();
            return fail(format!(
                "the {} benchmark guest ended with {:?}; its last lines:\n{}",
                arch.name(),
                run.ending,
                last.join("\n")
            ));
        }
        if report.not_measured.iter().any(|(_, _, failed)| *failed) {
            return fail(format!("a {} measurement failed", arch.name()));
        }
    }
    Ok(())
}

fn print_table(arch: Arch, accel: &str, report: &Report) {
    println!(
        "\n{} ({accel}; {})",
        arch.name(),
        report.clock.as_deref().unwrap_or("no bench-clock line")
    );
    println!(
        "{:<12} {:<5} {:>14} {:>14} {:>10}",
        "name", "accel", "median cycles", "p99 cycles", "iterations"
    );
    for result in &report.results {
        println!(
            "{:<12} {accel:<5} {:>14.1} {:>14.1} {:>10}",
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
                iterations: 10000
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
    }
}
