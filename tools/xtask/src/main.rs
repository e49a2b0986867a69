//! `cargo xtask build / run / test / bench` for coherent.
//!
//! - `build [--arch A] [--release]`: build the kernel and the default image.
//! - `run [--arch A] [--release]`: boot the default image with the console on the terminal
//!   (x86_64 by default; KVM when usable, TCG otherwise). Ctrl-A X quits QEMU. On x86_64
//!   the machine has an IOMMU (`intel-iommu`, virtio with `iommu_platform=on`).
//!   `build` and `run` use the product kernel (no test machinery) and an initfs holding only
//!   init and the programs the default manifest starts. Where `/dev/kvm` exists, `run` also
//!   builds the test kernel, only to boot the accelerator probe (`coherent.selftest=probe`)
//!   once before choosing KVM; without `/dev/kvm` there is nothing to probe.
//! - `test [--arch A] [--release]`: host tests of every crate, the harness's own test against
//!   a deliberately failing guest, then every guest suite on both CPUs; a summary at the end
//!   and a non-zero exit on any failure. `--suite NAME` (repeatable) runs only those guest
//!   suites, skipping the host tests, lint and self-test: for working on one suite.
//!   Guest suites boot the test kernel (feature `test-suites`); the full run also checks that
//!   the product kernel for each CPU holds no symbol of the suites (`check-product`).
//!
//! - `check-product [--arch A] [--release]`: only that check (see `symbols.rs`).
//! - `lint`: clippy with warnings denied over the host crates and the kernel on both CPUs
//!   (also part of `test`).
//!
//! - `bench`: the host benchmarks (the DMA pool against Linux's bitmap allocator); tables on
//!   the terminal, machine-readable results under `target/bench/`.
//! - `bench --guest [--arch A]`: the in-guest benchmark (`dmabench`: cycles for a scheme call,
//!   `dma:` allocation and release, zeroing, a disk read) on both CPUs, or `A`, always with
//!   the release build; results in `target/bench/guest-ARCH.json`. Not part of `test`.
//!   It runs twice per CPU: under the accelerator (cycles) and under QEMU's instruction
//!   counting (`-icount`, rows marked `icount` with instruction counts); `--icount` or
//!   `--no-icount` runs only the one (see `bench.rs`). Every run writes an SVG beside each
//!   JSON file; `bench --pictures` only draws them again.
//!
//! Every command first makes sure the bare-metal Rust targets and QEMU are installed.

mod bench;
mod console;
mod disk;
mod guest;
mod platform;
mod progress;
mod svg;
mod symbols;
mod test;
mod toolchain;
mod user;

use guest::{Kernel, Profile};
use harness::{Arch, Machine};
use std::path::PathBuf;
use std::process::ExitCode;

/// Errors are messages for the person at the terminal.
pub type Result<T> = std::result::Result<T, String>;

/// Returns an error with `message`.
pub fn fail<T>(message: impl Into<String>) -> Result<T> {
    Err(message.into())
}

/// The workspace root (this crate lives in `tools/xtask`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
}

struct Options {
    command: String,
    arches: Vec<Arch>,
    profile: Profile,
    suites: Vec<String>,
    guest: bool,
    /// `bench --pictures`: only draw the SVGs again.
    pictures: bool,
    /// `bench --guest`'s modes: both unless `--icount` or `--no-icount` picks one.
    bench_modes: Vec<bench::Mode>,
}

const USAGE: &str = "usage: cargo xtask build|run|test|lint|check-product|bench [--arch x86_64|aarch64] [--release] [--suite NAME] [--guest [--icount|--no-icount]] [--pictures]";

fn parse(arguments: &[String]) -> Result<Options> {
    let mut options = Options {
        command: String::new(),
        arches: Vec::new(),
        profile: Profile::Debug,
        suites: Vec::new(),
        guest: false,
        pictures: false,
        bench_modes: bench::Mode::ALL.to_vec(),
    };
    let mut arguments = arguments.iter();
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--arch" => {
                let name = arguments.next().ok_or("--arch needs x86_64 or aarch64")?;
                let arch = Arch::parse(name)
                    .ok_or_else(|| format!("unknown arch `{name}`; use x86_64 or aarch64"))?;
                options.arches.push(arch);
            }
            "--release" => options.profile = Profile::Release,
            "--guest" => options.guest = true,
            "--pictures" => options.pictures = true,
            "--icount" => options.bench_modes = vec![bench::Mode::Instructions],
            "--no-icount" => options.bench_modes = vec![bench::Mode::Cycles],
            "--suite" => options.suites.push(
                arguments
                    .next()
                    .ok_or("--suite needs a suite name")?
                    .clone(),
            ),
            "-h" | "--help" => return fail(USAGE),
            command if options.command.is_empty() && !command.starts_with('-') => {
                options.command = command.to_string();
            }
            other => return fail(format!("unexpected argument `{other}`\n{USAGE}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    match parse(&arguments).and_then(dispatch) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(options: Options) -> Result<()> {
    toolchain::ensure_rust_targets()?;
    match options.command.as_str() {
        "build" => {
            for arch in arches_or(&options.arches, &Arch::ALL) {
                let (kernel, initrd) = build_default_image(arch, options.profile)?;
                println!(
                    "{}: kernel {} initfs {}",
                    arch.name(),
                    kernel.display(),
                    initrd.display()
                );
            }
            Ok(())
        }
        "lint" => guest::lint(),
        "check-product" => {
            for arch in arches_or(&options.arches, &Arch::ALL) {
                println!(
                    "{}: {}",
                    arch.name(),
                    symbols::check_arch(arch, options.profile)?
                );
            }
            Ok(())
        }
        "bench" if options.pictures => bench::redraw(),
        "bench" if options.guest => {
            toolchain::ensure_qemu()?;
            bench::guest_run(
                &arches_or(&options.arches, &Arch::ALL),
                Profile::Release,
                &options.bench_modes,
            )
        }
        "bench" => bench::host(),
        "run" => {
            toolchain::ensure_qemu()?;
            let arch = arches_or(&options.arches, &[Arch::X86_64])[0];
            run(arch, options.profile)
        }
        "test" => {
            toolchain::ensure_qemu()?;
            test::run(
                &arches_or(&options.arches, &Arch::ALL),
                options.profile,
                &options.suites,
            )
        }
        "" => fail(USAGE),
        other => fail(format!("unknown command `{other}`\n{USAGE}")),
    }
}

/// A machine for `arch` booting `kernel` with `initrd` and the disk image `disk` as its
/// virtio block device; on aarch64 with coherent's device tree (QEMU's own for exactly this
/// machine, disk included, plus the DMA pools), written under the name `stem`.
pub fn machine(
    arch: Arch,
    kernel: PathBuf,
    initrd: PathBuf,
    disk: &std::path::Path,
    stem: &str,
    variant: platform::Platform,
) -> Result<Machine> {
    machine_with_gic(
        arch,
        kernel,
        initrd,
        disk,
        stem,
        harness::GicVersion::V2,
        variant,
    )
}

/// [`machine`] with the aarch64 interrupt controller `gic` (the device tree is QEMU's for
/// exactly that machine).
pub fn machine_with_gic(
    arch: Arch,
    kernel: PathBuf,
    initrd: PathBuf,
    disk: &std::path::Path,
    stem: &str,
    gic: harness::GicVersion,
    variant: platform::Platform,
) -> Result<Machine> {
    let mut machine = Machine::new(arch, kernel, initrd);
    machine.gic = gic;
    disk::attach(&mut machine, disk)?;
    if arch == Arch::Aarch64 {
        let directory = guest::guest_target_directory().join("images");
        machine.device_tree = Some(platform::device_tree_for(
            &machine, &directory, stem, variant,
        )?);
    }
    Ok(machine)
}

/// Puts `machine` behind its CPU's IOMMU ([`disk::add_iommu`]); on aarch64 makes its device
/// tree again, since QEMU's tree names the SMMUv3 (and the PCI host's `iommu-map`) only for
/// a machine that has one.
pub fn behind_iommu(machine: &mut Machine, stem: &str, variant: platform::Platform) -> Result<()> {
    disk::add_iommu(machine);
    if machine.arch == Arch::Aarch64 {
        let directory = guest::guest_target_directory().join("images");
        machine.device_tree = Some(platform::device_tree_for(
            machine, &directory, stem, variant,
        )?);
    }
    Ok(())
}

fn arches_or(chosen: &[Arch], default: &[Arch]) -> Vec<Arch> {
    if chosen.is_empty() {
        default.to_vec()
    } else {
        chosen.to_vec()
    }
}

/// Builds the product kernel and the default image's initfs: init and the programs the
/// default manifest starts, nothing else.
fn build_default_image(arch: Arch, profile: Profile) -> Result<(PathBuf, PathBuf)> {
    let kernel = guest::build_kernel(arch, profile, Kernel::Product)?;
    let initrd = guest::guest_target_directory()
        .join("images")
        .join(format!("default-{}.cpio", arch.name()));
    let manifest = guest::default_manifest()?;
    let programs = user::image_programs(&manifest, user::user_programs(arch, profile)?)?;
    guest::build_initfs(&manifest, &initrd, &programs)?;
    Ok((kernel, initrd))
}

fn run(arch: Arch, profile: Profile) -> Result<()> {
    let (kernel, initrd) = build_default_image(arch, profile)?;
    if arch == Arch::X86_64 && harness::Accelerator::detect(arch).0 == harness::Accelerator::Kvm {
        // The probe is a self-test, which only the test kernel has.
        let probe = guest::build_kernel(arch, profile, Kernel::Test)?;
        if let Some(reason) = harness::qemu::confirm_kvm(&probe, &initrd) {
            eprintln!(
                "xtask: /dev/kvm is present but cannot run coherent here ({reason}); using TCG"
            );
        }
    }
    let disk = guest::guest_target_directory()
        .join("images")
        .join(format!("default-{}.img", arch.name()));
    if !disk.exists() {
        disk::create(&disk)?;
    }
    // `attach` makes the NVMe image when only it is missing (a disk from before NVMe).
    let mut machine = machine(
        arch,
        kernel,
        initrd,
        &disk,
        "default",
        platform::Platform::Default,
    )?;
    machine.interactive = true;
    // The default machine confines its devices: the boot log shows each device's domain.
    behind_iommu(&mut machine, "default", platform::Platform::Default)?;
    eprintln!(
        "xtask: booting the default image on {} ({}); Ctrl-A X quits QEMU",
        arch.name(),
        machine.accelerator.name()
    );
    let status = machine
        .command()
        .status()
        .map_err(|error| format!("cannot start {}: {error}", arch.qemu_binary()))?;
    match status.code() {
        Some(code) if code == arch.success_status() => Ok(()),
        _ => fail(format!("the guest stopped with QEMU status {status}")),
    }
}
