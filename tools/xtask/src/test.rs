//! `cargo xtask test`: host tests, the harness's self-test, then the guest suites.
//!
//! The terminal gets a start and an end line per step and the summary; each guest's full
//! console and the host steps' output are kept under `target/test-logs/`, and a failed
//! step's last lines are printed inline (`progress.rs`).

use crate::guest::{self, Profile};
use crate::{fail, workspace_root, Result};
use harness::protocol::Ending;
use harness::{judge, Arch, GicVersion};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A guest suite: its name, how long it may take under TCG, which of the default image's
/// processes its image keeps (`guest::test_manifest`), the processes its own manifest adds
/// (none for the suites that run inside the kernel), and a check of the disk image after
/// the run (a failing check fails the suite), the interrupt controller its aarch64 machine
/// gets, and extra QEMU arguments for that machine.
///
/// Both GICs stay covered: `boot`, `process` and `dma` run aarch64 on GICv3
/// (`virt,gic-version=3`: redistributor and system-register CPU interface), and so do
/// `dma-api`, `platform`, `nvme`, `irq`, `iommu`, `hostile`, `console` and `smp`; `memory`,
/// `virtio-blk` and `stress` on GICv2 (QEMU's default, memory-mapped CPU interface). Behind
/// the SMMU the NVMe function gets INTx on either GIC (the SMMU would block MSI); one
/// interrupt per completion on both since the driver releases the line QEMU 7.2 leaves
/// asserted after a reset (the over-count once blamed on GICv3; `COHERENT_GIC=2` runs it on
/// GICv2).
struct GuestSuite {
    name: &'static str,
    deadline: Duration,
    keep: &'static [&'static str],
    processes: &'static str,
    check_disk: Option<fn(&Path) -> Result<()>>,
    gic: GicVersion,
    aarch64_extra: &'static [&'static str],
    /// CPUs of its machine (0: the default, `harness::qemu::default_cpus`).
    cpus: u32,
    /// Whether the suite runs on aarch64 too.
    on_aarch64: bool,
    /// Whether the machine has an IOMMU (x86_64: `-device intel-iommu`; aarch64: `virt`'s
    /// SMMUv3) and virtio PCI devices with `iommu_platform=on`.
    iommu: bool,
}

/// An extra virtio block function on aarch64's PCI host bridge (a null disk), so the `boot`
/// suite proves the kernel assigns BARs where no firmware did.
const PCI_BLOCK_DEVICE: &[&str] = &[
    "-blockdev",
    "driver=null-co,node-name=pci-disk,size=1048576",
    "-device",
    "virtio-blk-pci,drive=pci-disk",
];

/// QEMU's `edu` DMA engine, the `iommu` suite's weapon, reaching all 32 address bits (its
/// default mask is 28 bits, below the pools).
pub const EDU_DEVICE: &[&str] = &["-device", "edu,dma_mask=0xffffffff"];

/// The default image's processes most suites keep: the DMA server and its one-shot table
/// printer, but not the block driver or its demo (they would hold pool buffers).
const SERVICES: &[&str] = &["dmad", "dmastat"];

/// Every guest suite, in the order they run.
const SUITES: [GuestSuite; 14] = [
    GuestSuite {
        name: "boot",
        deadline: Duration::from_secs(60),
        keep: SERVICES,
        processes: "",
        check_disk: None,
        gic: GicVersion::V3,
        aarch64_extra: PCI_BLOCK_DEVICE,
        on_aarch64: true,
        iommu: false,
        cpus: 0,
    },
    GuestSuite {
        name: "memory",
        deadline: Duration::from_secs(180),
        keep: SERVICES,
        processes: "",
        check_disk: None,
        gic: GicVersion::V2,
        aarch64_extra: &[],
        on_aarch64: true,
        iommu: false,
        cpus: 0,
    },
    GuestSuite {
        name: "process",
        deadline: Duration::from_secs(240),
        keep: SERVICES,
        processes: crate::user::PROCESS_TEST_MANIFEST,
        check_disk: None,
        gic: GicVersion::V3,
        aarch64_extra: &[],
        on_aarch64: true,
        iommu: false,
        cpus: 0,
    },
    GuestSuite {
        name: "dma",
        deadline: Duration::from_secs(300),
        keep: SERVICES,
        processes: crate::user::DMA_TEST_MANIFEST,
        check_disk: None,
        gic: GicVersion::V3,
        aarch64_extra: &[],
        on_aarch64: true,
        iommu: false,
        cpus: 0,
    },
    GuestSuite {
        name: "dma-api",
        deadline: Duration::from_secs(120),
        keep: SERVICES,
        processes: crate::user::DMA_API_TEST_MANIFEST,
        check_disk: None,
        gic: GicVersion::V3,
        aarch64_extra: &[],
        on_aarch64: true,
        iommu: true,
        cpus: 0,
    },
    GuestSuite {
        name: "platform",
        deadline: Duration::from_secs(180),
        keep: SERVICES,
        processes: crate::user::PLATFORM_TEST_MANIFEST,
        check_disk: None,
        gic: GicVersion::V3,
        aarch64_extra: &[],
        on_aarch64: true,
        iommu: false,
        cpus: 0,
    },
    GuestSuite {
        name: "virtio-blk",
        deadline: Duration::from_secs(180),
        keep: &["dmad"],
        processes: crate::user::BLK_TEST_MANIFEST,
        check_disk: Some(crate::disk::check_after_suite),
        gic: GicVersion::V2,
        aarch64_extra: &[],
        on_aarch64: true,
        iommu: true,
        cpus: 0,
    },
    GuestSuite {
        name: "nvme",
        deadline: Duration::from_secs(180),
        keep: &["dmad"],
        processes: crate::user::NVME_TEST_MANIFEST,
        check_disk: Some(crate::disk::check_nvme_after_suite),
        gic: GicVersion::V3,
        aarch64_extra: &[],
        on_aarch64: true,
        iommu: true,
        cpus: 0,
    },
    GuestSuite {
        name: "irq",
        deadline: Duration::from_secs(180),
        keep: &["dmad"],
        processes: crate::user::IRQ_TEST_MANIFEST,
        check_disk: None,
        gic: GicVersion::V3,
        aarch64_extra: &[],
        on_aarch64: true,
        iommu: true,
        cpus: 0,
    },
    GuestSuite {
        name: "iommu",
        deadline: Duration::from_secs(120),
        keep: &["dmad"],
        processes: crate::user::IOMMU_TEST_MANIFEST,
        check_disk: None,
        gic: GicVersion::V3,
        aarch64_extra: &[],
        on_aarch64: true,
        iommu: true,
        cpus: 0,
    },
    GuestSuite {
        name: "hostile",
        deadline: Duration::from_secs(180),
        keep: &["dmad"],
        processes: crate::user::HOSTILE_TEST_MANIFEST,
        check_disk: None,
        gic: GicVersion::V3,
        aarch64_extra: &[],
        on_aarch64: true,
        iommu: false,
        cpus: 0,
    },
    // The harness types commands into the shell (`console.rs`); the image keeps the
    // default image's services, drivers and shell.
    GuestSuite {
        name: "console",
        deadline: Duration::from_secs(120),
        keep: crate::console::KEEP,
        processes: "",
        check_disk: None,
        gic: GicVersion::V3,
        aarch64_extra: &[],
        on_aarch64: true,
        iommu: false,
        cpus: 0,
    },
    GuestSuite {
        name: "stress",
        deadline: Duration::from_secs(600),
        keep: SERVICES,
        processes: crate::user::STRESS_TEST_MANIFEST,
        check_disk: None,
        gic: GicVersion::V2,
        aarch64_extra: &[],
        on_aarch64: true,
        iommu: false,
        cpus: 0,
    },
    GuestSuite {
        name: "smp",
        deadline: Duration::from_secs(300),
        keep: SERVICES,
        processes: crate::user::SMP_TEST_MANIFEST,
        check_disk: None,
        gic: GicVersion::V3,
        aarch64_extra: &[],
        on_aarch64: true,
        iommu: false,
        cpus: 4,
    },
];

/// A CPU's kernel and its user programs: `(arch, kernel, [(initfs path, bytes)])`.
type GuestImage = (Arch, PathBuf, Vec<(String, Vec<u8>)>);

/// One line of the final summary.
struct Outcome {
    label: String,
    passed: bool,
    detail: String,
}

/// Runs everything for `arches` and fails if anything failed.
pub fn run(arches: &[Arch], profile: Profile, only: &[String]) -> Result<()> {
    let mut outcomes = Vec::new();
    if let Some(unknown) = only
        .iter()
        .find(|name| !SUITES.iter().any(|suite| suite.name == name.as_str()))
    {
        return fail(format!("no guest suite named `{unknown}`"));
    }
    let everything = only.is_empty();

    if everything {
        host_checks(&mut outcomes)?;
    }

    let mut images = Vec::new();
    for &arch in arches {
        banner(&format!("building the {} kernel", arch.name()));
        let kernel = guest::build_kernel(arch, profile, guest::Kernel::Test)?;
        let programs = crate::user::user_programs(arch, profile)?;
        images.push((arch, kernel, programs));
    }

    if let Some((_, kernel, programs)) = images.iter().find(|(arch, _, _)| *arch == Arch::X86_64) {
        let initrd = suite_initfs(Arch::X86_64, &SUITES[0], programs)?;
        if let Some(reason) = harness::qemu::confirm_kvm(kernel, &initrd) {
            println!(
                "xtask: /dev/kvm is present but cannot run coherent here ({reason}); using TCG"
            );
        }
    }

    if everything {
        harness_self_test(&images, &mut outcomes)?;
        product_check(arches, profile, &mut outcomes);
    }

    for (arch, kernel, programs) in &images {
        for suite in SUITES
            .iter()
            .filter(|suite| everything || only.iter().any(|name| name == suite.name))
        {
            if *arch == Arch::Aarch64 && !suite.on_aarch64 {
                println!(
                    "xtask: {}-aarch64 skipped: the suite is x86_64-only",
                    suite.name
                );
                continue;
            }
            outcomes.push(run_suite(*arch, kernel, programs, suite)?);
        }
    }

    banner("summary");
    let failed = outcomes.iter().filter(|outcome| !outcome.passed).count();
    for outcome in &outcomes {
        let mark = if outcome.passed { "ok    " } else { "FAILED" };
        println!("  {mark} {:<22} {}", outcome.label, outcome.detail);
    }
    println!(
        "total: {} passed, {} failed",
        outcomes.len() - failed,
        failed
    );
    if failed == 0 {
        Ok(())
    } else {
        fail(format!("{failed} of {} checks failed", outcomes.len()))
    }
}

/// Host tests and lint.
fn host_checks(outcomes: &mut Vec<Outcome>) -> Result<()> {
    let mut host = Command::new(env!("CARGO"));
    host.current_dir(workspace_root())
        .args(["test", "--workspace", "--exclude", "kernel"]);
    let (passed, detail) =
        crate::progress::run_logged(&mut host, "host-tests", "host tests (cargo test)", "ok");
    outcomes.push(Outcome {
        label: "host tests".into(),
        passed,
        detail,
    });

    banner("lint (clippy, warnings denied, host crates and the kernel on both CPUs)");
    let lint = guest::lint();
    outcomes.push(Outcome {
        label: "lint".into(),
        passed: lint.is_ok(),
        detail: lint.err().unwrap_or_else(|| "clippy clean".into()),
    });

    Ok(())
}

/// Builds the product kernel for each CPU and checks it holds no test code (`symbols.rs`).
fn product_check(arches: &[Arch], profile: Profile, outcomes: &mut Vec<Outcome>) {
    for &arch in arches {
        banner(&format!(
            "product kernel for {}: no test code in its symbol table",
            arch.name()
        ));
        let check = crate::symbols::check_arch(arch, profile);
        match &check {
            Ok(summary) => println!("{summary}"),
            Err(problem) => println!("xtask: product-{}: {problem}", arch.name()),
        }
        outcomes.push(Outcome {
            label: format!("product-{}", arch.name()),
            passed: check.is_ok(),
            detail: check.unwrap_or_else(|problem| problem),
        });
    }
}

/// The harness's own test against deliberately failing guests.
fn harness_self_test(images: &[GuestImage], outcomes: &mut Vec<Outcome>) -> Result<()> {
    let mut self_test = Command::new(env!("CARGO"));
    self_test.current_dir(workspace_root()).args([
        "test",
        "--package",
        "harness",
        "--test",
        "failing_guest",
        "--",
        "--ignored",
        "--nocapture",
    ]);
    for (arch, kernel, _) in images {
        self_test.arg(format!("{}_", arch.name()));
        let initrd = suite_initfs(*arch, &SUITES[0], &[])?;
        let variable = arch.name().to_uppercase();
        if harness::Accelerator::detect(*arch).0 == harness::Accelerator::Tcg {
            self_test.env("COHERENT_ACCEL", "tcg");
        }
        self_test.env(format!("COHERENT_KERNEL_{variable}"), kernel);
        self_test.env(format!("COHERENT_INITFS_{variable}"), initrd);
    }
    let (passed, detail) = crate::progress::run_logged(
        &mut self_test,
        "harness-self-test",
        "harness self-test against deliberately failing guests",
        "failing guests are caught",
    );
    outcomes.push(Outcome {
        label: "harness self-test".into(),
        passed,
        detail,
    });

    Ok(())
}

fn run_suite(
    arch: Arch,
    kernel: &Path,
    programs: &[(String, Vec<u8>)],
    suite: &GuestSuite,
) -> Result<Outcome> {
    let initrd = suite_initfs(arch, suite, programs)?;
    let stem = format!("test-{}-{}", suite.name, arch.name());
    let disk = guest::guest_target_directory()
        .join("images")
        .join(format!("{stem}.img"));
    crate::disk::create(&disk)?;
    let gic = gic_override().unwrap_or(suite.gic);
    let mut machine = crate::machine_with_gic(
        arch,
        kernel.to_path_buf(),
        initrd,
        &disk,
        &stem,
        gic,
        crate::platform::Platform::Test,
    )?;
    if suite.cpus != 0 {
        machine.cpus = suite.cpus;
        if arch == Arch::Aarch64 {
            // QEMU's device tree lists the machine's CPUs: make it again for this many.
            let directory = guest::guest_target_directory().join("images");
            machine.device_tree = Some(crate::platform::device_tree_for(
                &machine,
                &directory,
                &stem,
                crate::platform::Platform::Test,
            )?);
        }
    }
    // `dma-api` has edu too: a real DMA engine to write into freed or shared buffers.
    if suite.name == "iommu" || suite.name == "dma-api" || iommu_override() {
        machine
            .extra
            .extend(EDU_DEVICE.iter().map(|argument| argument.to_string()));
    }
    if suite.iommu || iommu_override() {
        crate::behind_iommu(&mut machine, &stem, crate::platform::Platform::Test)?;
    }
    if arch == Arch::Aarch64 {
        machine.extra.extend(
            suite
                .aarch64_extra
                .iter()
                .map(|argument| argument.to_string()),
        );
    }
    machine.command_line = format!("coherent.expect-ram-mib={}", machine.memory_mib);
    let gic_name = match (arch, gic) {
        (Arch::Aarch64, GicVersion::V3) => ", GICv3",
        (Arch::Aarch64, GicVersion::V2) => ", GICv2",
        _ => "",
    };
    let step = crate::progress::Step::start(
        &format!("{}-{}", suite.name, arch.name()),
        &format!("{}{gic_name}", machine.accelerator.name()),
    );
    // The guest's console goes to its log file, not the terminal (see `progress`).
    let mut log = crate::progress::Log::create(&format!("{}-{}", suite.name, arch.name()))?;
    let run = if suite.name == "console" {
        crate::console::run(arch, &machine, suite.deadline, |line| log.line(line))?
    } else {
        harness::run(&machine, suite.deadline, |line| log.line(line))
            .map_err(|error| format!("cannot start {}: {error}", arch.qemu_binary()))?
    };
    let log_path = log.finish();
    let verdict = judge(suite.name, arch, &run.output, &run.ending);
    for problem in &verdict.problems {
        println!("xtask: {}: {problem}", verdict.label);
    }
    let disk_check = match suite.check_disk {
        Some(check) => check(&disk),
        None => Ok(()),
    };
    if let Err(problem) = &disk_check {
        println!(
            "xtask: {}: disk image check failed: {problem}",
            verdict.label
        );
    }
    let ending = match run.ending {
        Ending::Exited(code) => format!("exit {code}"),
        Ending::Killed => "killed".into(),
        Ending::TimedOut => "timed out".into(),
    };
    let passed = verdict.is_pass() && disk_check.is_ok();
    let detail = format!(
        "{} passed, {} failed{} ({}, {ending}, {:.1} s)",
        verdict.passed,
        verdict.failed,
        if disk_check.is_ok() {
            ""
        } else {
            ", disk image check FAILED"
        },
        machine.accelerator.name(),
        run.elapsed.as_secs_f64()
    );
    if !passed {
        crate::progress::print_tail(&verdict.label, &run.output, &log_path);
    }
    step.end(passed, &detail);
    Ok(Outcome {
        label: verdict.label.clone(),
        passed,
        detail,
    })
}

/// `COHERENT_IOMMU=on` runs every suite behind the IOMMU (x86_64 VT-d, aarch64 SMMUv3),
/// for trying the drivers on suites that do not ask for it.
fn iommu_override() -> bool {
    std::env::var("COHERENT_IOMMU").is_ok_and(|value| value == "on")
}

/// `COHERENT_GIC=2|3` runs every aarch64 suite on that GIC version instead of the suite's
/// own (for trying the suites on both; the default split covers both in one run).
pub fn gic_override() -> Option<GicVersion> {
    match std::env::var("COHERENT_GIC").ok()?.as_str() {
        "2" => Some(GicVersion::V2),
        "3" => Some(GicVersion::V3),
        _ => None,
    }
}

fn suite_initfs(arch: Arch, suite: &GuestSuite, programs: &[(String, Vec<u8>)]) -> Result<PathBuf> {
    let path = guest::guest_target_directory().join("images").join(format!(
        "test-{}-{}.cpio",
        suite.name,
        arch.name()
    ));
    let manifest = format!(
        "{}{}",
        guest::test_manifest(suite.name, suite.keep)?,
        suite.processes
    );
    guest::build_initfs(&manifest, &path, programs)?;
    Ok(path)
}

fn banner(title: &str) {
    println!("\n=== {title}");
}
