//! Building guest artifacts: the kernel for each CPU and the initfs images.
//!
//! The kernel is built with its own target directory (`target/guest`) and flags: a static
//! relocation model (it runs where it is linked), and on x86_64 the `kernel` code model (it
//! is linked in the top 2 GiB). aarch64 boots a raw Image, cut from the ELF's load segments.
//!
//! There are two kernels ([`Kernel`]): the test kernel, built with the kernel's `test-suites`
//! feature (in-kernel suites, self-test switches, the accelerator probe), and the product
//! kernel without it. Both build in the same target directory, so the dependencies are
//! compiled once and only the kernel crate twice; cargo puts either at the same path
//! (`…/kernel`), so each build is copied at once to its own name (`kernel-test`,
//! `kernel-product`) and never overwrites the other.

use crate::{fail, workspace_root, Result};
use harness::Arch;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Which cargo profile to build the guest with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// `dev`: debug assertions and overflow checks on.
    Debug,
    /// `release`: optimised.
    Release,
}

impl Profile {
    fn directory(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
        }
    }
}

/// Which kernel to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// With feature `test-suites`: what `cargo xtask test` and the guest benchmark boot.
    Test,
    /// Without test machinery: what `cargo xtask build` and `run` boot.
    Product,
}

impl Kernel {
    /// Both kernels.
    pub const ALL: [Kernel; 2] = [Kernel::Product, Kernel::Test];

    /// The cargo features this kernel is built with.
    pub fn features(self) -> &'static [&'static str] {
        match self {
            Kernel::Test => &["--features", "test-suites"],
            Kernel::Product => &[],
        }
    }

    /// The kernel's name, for file names and messages.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Test => "test",
            Kernel::Product => "product",
        }
    }
}

/// Where guest build products go.
pub fn guest_target_directory() -> PathBuf {
    workspace_root().join("target").join("guest")
}

/// A cargo command for the kernel on `arch` (`build`, `clippy`...) with the kernel's target
/// directory and flags.
pub fn kernel_cargo(arch: Arch, subcommand: &str) -> Command {
    let mut flags = vec![
        "-C",
        "relocation-model=static",
        "-C",
        "force-frame-pointers=yes",
    ];
    if arch == Arch::X86_64 {
        flags.extend(["-C", "code-model=kernel"]);
    }
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(workspace_root())
        .args([
            subcommand,
            "--package",
            "kernel",
            "--target",
            arch.rust_target(),
        ])
        .env("CARGO_TARGET_DIR", guest_target_directory())
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"))
        .env_remove("RUSTFLAGS");
    command
}

/// Runs clippy with warnings denied over the host crates and the kernel on both CPUs, with
/// and without its test machinery.
pub fn lint() -> Result<()> {
    let mut host = Command::new(env!("CARGO"));
    host.current_dir(workspace_root()).args([
        "clippy",
        "--workspace",
        "--exclude",
        "kernel",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(&mut host)?;
    for arch in Arch::ALL {
        for kernel in Kernel::ALL {
            run(kernel_cargo(arch, "clippy")
                .args(kernel.features())
                .args(["--", "-D", "warnings"]))?;
        }
    }
    Ok(())
}

/// Builds `kernel` for `arch` and returns the file QEMU boots (`-kernel`).
pub fn build_kernel(arch: Arch, profile: Profile, kernel: Kernel) -> Result<PathBuf> {
    let elf = build_kernel_elf(arch, profile, kernel)?;
    match arch {
        Arch::X86_64 => Ok(elf),
        Arch::Aarch64 => {
            let image = elf.with_extension("bin");
            write_raw_image(&elf, &image)?;
            Ok(image)
        }
    }
}

/// Builds `kernel` for `arch` and returns its ELF file (`kernel-test` or `kernel-product`).
pub fn build_kernel_elf(arch: Arch, profile: Profile, kernel: Kernel) -> Result<PathBuf> {
    let mut command = kernel_cargo(arch, "build");
    command.args(kernel.features());
    if profile == Profile::Release {
        command.arg("--release");
    }
    run(&mut command)?;
    let directory = guest_target_directory()
        .join(arch.rust_target())
        .join(profile.directory());
    let built = directory.join("kernel");
    let elf = directory.join(format!("kernel-{}", kernel.name()));
    std::fs::copy(&built, &elf).map_err(|error| {
        format!(
            "cannot copy {} to {}: {error}",
            built.display(),
            elf.display()
        )
    })?;
    Ok(elf)
}

/// Writes the load segments of an ELF64 file as one flat image starting at the lowest
/// physical address (what `objcopy -O binary` does).
pub fn write_raw_image(elf: &Path, image: &Path) -> Result<()> {
    let bytes =
        std::fs::read(elf).map_err(|error| format!("cannot read {}: {error}", elf.display()))?;
    let flat = flatten_elf(&bytes).map_err(|reason| format!("{}: {reason}", elf.display()))?;
    std::fs::write(image, flat)
        .map_err(|error| format!("cannot write {}: {error}", image.display()))?;
    Ok(())
}

/// The file contents of every `PT_LOAD` segment, placed by physical address.
pub fn flatten_elf(bytes: &[u8]) -> std::result::Result<Vec<u8>, &'static str> {
    let read = |offset: usize, size: usize| -> std::result::Result<u64, &'static str> {
        let field = bytes.get(offset..offset + size).ok_or("truncated ELF")?;
        let mut value = [0u8; 8];
        value[..size].copy_from_slice(field);
        Ok(u64::from_le_bytes(value))
    };
    if bytes.get(..4) != Some(b"\x7fELF") || bytes.get(4) != Some(&2) {
        return Err("not an ELF64 file");
    }
    let header_offset = read(0x20, 8)? as usize;
    let header_size = read(0x36, 2)? as usize;
    let header_count = read(0x38, 2)? as usize;
    let mut segments = Vec::new();
    for index in 0..header_count {
        let header = header_offset + index * header_size;
        const PT_LOAD: u64 = 1;
        if read(header, 4)? != PT_LOAD {
            continue;
        }
        let (offset, physical, file_size) = (
            read(header + 8, 8)?,
            read(header + 24, 8)?,
            read(header + 32, 8)?,
        );
        if file_size > 0 {
            segments.push((physical, offset as usize, file_size as usize));
        }
    }
    let base = segments
        .iter()
        .map(|segment| segment.0)
        .min()
        .ok_or("no loadable segment")?;
    let mut flat = Vec::new();
    for (physical, offset, size) in segments {
        let start = usize::try_from(physical - base).map_err(|_| "segments too far apart")?;
        if start > 64 << 20 {
            return Err("segments more than 64 MiB apart");
        }
        let data = bytes
            .get(offset..offset + size)
            .ok_or("segment beyond end of file")?;
        if flat.len() < start + size {
            flat.resize(start + size, 0);
        }
        flat[start..start + size].copy_from_slice(data);
    }
    Ok(flat)
}

/// Builds an initfs holding `manifest` as `manifest.toml` and `files` (`(path, contents)`,
/// e.g. from `user::user_programs`), written to `path`.
pub fn build_initfs(manifest: &str, path: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    let mut builder = image::initfs::Builder::new();
    builder
        .add_file("manifest.toml", manifest.as_bytes(), 0o644)
        .map_err(|error| format!("cannot add manifest.toml to the initfs: {error:?}"))?;
    // User programs and their data files (see user.rs).
    for (name, contents) in files {
        let mode = if contents.starts_with(b"\x7fELF") {
            0o755
        } else {
            0o644
        };
        builder
            .add_file(name, contents, mode)
            .map_err(|error| format!("cannot add {name} to the initfs: {error}"))?;
    }
    if let Some(directory) = path.parent() {
        std::fs::create_dir_all(directory)
            .map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
    }
    std::fs::write(path, builder.finish())
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    Ok(())
}

/// The default image's manifest text.
pub fn default_manifest() -> Result<String> {
    let path = workspace_root().join("image/manifests/default.toml");
    std::fs::read_to_string(&path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))
}

/// The manifest of the test image for guest suite `suite`: the default manifest's pools and
/// those of its processes named in `keep` (the services the suite needs, e.g. dmad), under
/// a new `[image]` section. Everything else the default image starts (the block driver,
/// the demo) stays out unless the suite keeps it, so one suite's processes never disturb
/// another's counts.
pub fn test_manifest(suite: &str, keep: &[&str]) -> Result<String> {
    let default = default_manifest()?;
    let mut rest = String::new();
    for section in sections(&default) {
        let header = section
            .lines()
            .find(|line| line.trim_start().starts_with('['))
            .unwrap_or("")
            .trim();
        let kept = match header.strip_prefix("[process.") {
            Some(name) => keep.contains(&name.trim_end_matches(']')),
            None => header.starts_with("[pool."),
        };
        if kept {
            rest.push('\n');
            rest.push_str(section.trim_end());
            rest.push('\n');
        }
    }
    Ok(format!(
        "# Test image for guest suite `{suite}`, made by cargo xtask test.\n[image]\nname = \"test-{suite}\"\ntest-suite = \"{suite}\"\n{rest}"
    ))
}

/// Splits a manifest into its sections, each with the comment lines just above its header;
/// text before the first header is dropped.
fn sections(manifest: &str) -> Vec<String> {
    let mut sections = Vec::new();
    let mut pending = String::new();
    let mut current: Option<String> = None;
    for line in manifest.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            if let Some(section) = current.take() {
                sections.push(section);
            }
            current = Some(std::mem::take(&mut pending) + line + "\n");
        } else if trimmed.starts_with('#') {
            pending.push_str(line);
            pending.push('\n');
        } else if trimmed.is_empty() {
            if let Some(section) = current.as_mut() {
                section.push_str(&pending);
                pending.clear();
                section.push('\n');
            } else {
                pending.clear();
            }
        } else if let Some(section) = current.as_mut() {
            section.push_str(&pending);
            pending.clear();
            section.push_str(line);
            section.push('\n');
        }
    }
    if let Some(section) = current {
        sections.push(section);
    }
    sections
}

fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .map_err(|error| format!("cannot run {command:?}: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        fail(format!("{command:?} failed ({status})"))
    }
}
