//! Building user programs (init and the guest test programs) as initfs files.
//!
//! User programs are built for the bare-metal targets with their own target directory
//! (`target/user`; the kernel's `target/guest` uses other flags) and these flags:
//! - `-C relocation-model=static`: programs run where they are linked, at
//!   `USER_IMAGE_BASE`, so nothing is relocated at load time;
//! - `-T services/userlib/user.ld`: text, read-only data and data in separate page-aligned
//!   `PT_LOAD` segments, none both writable and executable;
//! - `--no-dynamic-linker`: no `PT_INTERP`;
//! - `-z max-page-size=4096`: segments aligned to the 4 KiB pages the kernel maps (lld's
//!   aarch64 default of 64 KiB would only pad the files);
//! - `--strip-debug`: DWARF would make each program megabytes in the initfs; the symbol
//!   table stays, so addresses in a fault report can still be named.
//!
//! Every ELF is checked ([`check_user_elf`]) before it goes into an image, so a layout
//! mistake fails the build instead of a boot.

use crate::guest::Profile;
use crate::{fail, workspace_root, Result};
use harness::Arch;
use kernel_core::abi::{USER_IMAGE_BASE, USER_STACK_SIZE, USER_STACK_TOP};
use std::path::PathBuf;
use std::process::Command;

/// Each user package and the programs (cargo `[[bin]]`s) it installs as `/bin/NAME`.
const PACKAGES: [(&str, &[&str]); 16] = [
    ("init", &["init"]),
    ("dmad", &["dmad"]),
    ("dmastat", &["dmastat"]),
    ("shell", &["shell"]),
    ("virtio-blk", &["virtio-blk"]),
    ("nvme", &["nvme"]),
    ("nvme-tests", &["nvme-tests"]),
    ("disk-demo", &["disk-demo"]),
    ("blk-tests", &["blk-tests"]),
    ("irq-tests", &["irq-tests", "irq-probe", "irq-reader"]),
    ("iommu-tests", &["iommu-tests"]),
    ("smp-tests", &["smp-tests", "smp-spinner", "smp-unmapper"]),
    ("bench-server", &["bench-server"]),
    ("dmabench", &["dmabench"]),
    (
        "process-tests",
        &[
            "process-tests",
            "spin",
            "sleeper",
            "bad-access",
            "short-lived",
            "lender",
            "threader",
        ],
    ),
    (
        "dma-tests",
        &[
            "dma-tests",
            "dma-api-tests",
            "dma-sharer",
            "dma-stranger",
            "dma-holder",
            "dma-worker",
            "dma-hog",
            "platform-tests",
            "stress-tests",
            "hostile-tests",
            "hostile-attacker",
        ],
    ),
];

/// A file in `/bin` that is not a program: spawning it must fail with `ENOEXEC`.
const NOT_AN_ELF: (&str, &str) = (
    "/bin/not-an-elf",
    "This file is not an ELF program; spawning it must fail with ENOEXEC.\n",
);

/// The `[process]` section that makes a test image run the `process` suite; appended to the
/// suite's manifest by `cargo xtask test`.
///
/// `lender` serves the `lender` scheme for the lending tests; the driver starts it with its
/// section's rights (`spawns`).
pub const PROCESS_TEST_MANIFEST: &str = r#"
[process.process-tests]
path = "/bin/process-tests"
devices = ["virtio-blk0"]
spawns = ["lender"]

[process.lender]
path = "/bin/lender"
schemes = ["lender"]
autostart = false
"#;

/// The `[process]` sections that make a test image run the `dma` suite; appended to the
/// suite's manifest (the default one, which already starts dmad) by `cargo xtask test`.
///
/// The driver is granted the pool's device with a quota; the clients it spawns are granted
/// the device without a quota but not started by init (`autostart = false`) — a looser
/// quota than the driver's own, so it may hand them on only because it lists them in
/// `spawns`; `dma-stranger`
/// has no section, so it has no grant.
pub const DMA_TEST_MANIFEST: &str = r#"
[process.dma-tests]
path = "/bin/dma-tests"
devices = ["virtio-blk0"]
quota-pages = 1024
spawns = ["dma-holder", "dma-worker", "dma-hog"]

[process.dma-holder]
path = "/bin/dma-holder"
devices = ["virtio-blk0"]
autostart = false

[process.dma-worker]
path = "/bin/dma-worker"
devices = ["virtio-blk0"]
autostart = false

[process.dma-hog]
path = "/bin/dma-hog"
devices = ["virtio-blk0"]
autostart = false
"#;

/// The processes and pool of the `dma-api` suite's image: its driver, granted the default
/// pool's device and `dma-api0`, a 1 MiB pool whose device addresses are physical + 4 GiB
/// (out of reach of a 32-bit mask), declared without `cache` (write-combining); `edu0`'s pool
/// declared `cache = "wb"` and `dma-api-uc`'s `cache = "uc"` (coherency per device); `edu0` is
/// QEMU's edu DMA engine (the suite's machine has one), also for the streaming transfers; and
/// the importer of its sharing tests, `dma-sharer`, granted QEMU's `edu` only. For dmad's
/// debug mode the driver spawns `dma-holder` (which exits holding buffers: the leak report)
/// and itself again as `dma-scribbler`, allowed `memory:` to write a freed buffer's pages as a
/// device without an IOMMU would (the poison test); a section serving a scheme is a service
/// to init, so the driver's own section must not have it.
pub const DMA_API_TEST_MANIFEST: &str = r#"
[pool.dma-api0]
device = "dma-api0"
size = 0x100000
align = 0x100000
limit = 0x100000000
device-offset = 0x100000000

# Coherency per device: edu's pool is write-back (a real DMA engine to sync through), a
# device-less test pool is uncached; the default pool stays write-combining.
[pool.dma-api-wb]
device = "edu0"
size = 0x100000
limit = 0x100000000
cache = "wb"

[pool.dma-api-uc]
device = "dma-api-uc"
size = 0x40000
cache = "uc"

[process.dma-api-tests]
path = "/bin/dma-api-tests"
devices = ["virtio-blk0", "dma-api0", "edu0", "dma-api-uc"]
spawns = ["dma-sharer", "dma-holder", "dma-scribbler"]

# The importer of the sharing tests: granted edu0 only, started by the driver.
[process.dma-sharer]
path = "/bin/dma-sharer"
devices = ["edu0"]
autostart = false

# The poison test's writer after free: the driver itself again, allowed `memory:`.
[process.dma-scribbler]
path = "/bin/dma-api-tests"
schemes = ["memory"]
autostart = false

[process.dma-holder]
path = "/bin/dma-holder"
devices = ["virtio-blk0"]
autostart = false
"#;

/// What makes a test image run the `platform` suite: on x86_64 (no device tree) a pool for
/// test device `dma-test0` whose device addresses are physical + 4 GiB (the aarch64 test
/// machine's device tree declares the same through a bus's `dma-ranges`, and wins there;
/// see `platform.rs`), and the driver, granted `dma-test0` and `dma-test1` (which has no
/// pool and borrows the default one the default manifest declares). `dma-stranger` has no
/// section, so it is granted nothing.
pub const PLATFORM_TEST_MANIFEST: &str = r#"
[pool.dma-test0]
device = "dma-test0"
size = 0x100000
align = 0x100000
limit = 0x100000000
device-offset = 0x100000000

[process.platform-tests]
path = "/bin/platform-tests"
devices = ["dma-test0", "dma-test1"]
"#;

/// The `[process]` sections that make a test image run the `virtio-blk` suite; appended to
/// the suite's manifest (which keeps only dmad from the default one) by `cargo xtask test`.
///
/// The driver is declared with its grants but not started by init (`autostart = false`):
/// `blk-tests`, which may hand the driver's section to a child (`spawns`), starts each
/// driver instance itself (one that dies mid-I/O, then the one the
/// other tests use), so it can see the pool before, during and after.
pub const BLK_TEST_MANIFEST: &str = r#"
[process.blk-tests]
path = "/bin/blk-tests"
spawns = ["virtio-blk"]

[process.virtio-blk]
path = "/bin/virtio-blk"
schemes = ["disk"]
devices = ["virtio-blk0"]
autostart = false
"#;

/// The processes of the `nvme` suite's image: the suite's program, which starts the NVMe
/// driver itself (granted `nvme` and the `nvme0` controller, not started by init) so it
/// can see the pool before and after; it is granted `nvme0` only to read its pool's stats.
pub const NVME_TEST_MANIFEST: &str = r#"
[process.nvme-tests]
path = "/bin/nvme-tests"
spawns = ["nvme"]

[process.nvme]
path = "/bin/nvme"
schemes = ["nvme"]
devices = ["nvme0"]
autostart = false
"#;

/// The processes of the `irq` suite's image: its driver (no device of its own), the block
/// driver it starts and a second process granted the device (to find the line busy); the
/// disk clients it starts (`irq-reader`) get no rights and need no section.
pub const IRQ_TEST_MANIFEST: &str = r#"
[process.irq-tests]
path = "/bin/irq-tests"
spawns = ["virtio-blk", "irq-contender"]

[process.virtio-blk]
path = "/bin/virtio-blk"
schemes = ["disk"]
devices = ["virtio-blk0"]
autostart = false

[process.irq-contender]
path = "/bin/irq-probe"
devices = ["virtio-blk0"]
autostart = false
"#;

/// The processes of the `iommu` suite's image: its driver, granted QEMU's `edu` DMA engine
/// (served by the global pool) and `virtio-blk0` (for another device's buffer), and the
/// same program as a stranger granted edu0, started by the driver.
pub const IOMMU_TEST_MANIFEST: &str = r#"
[process.iommu-tests]
path = "/bin/iommu-tests"
devices = ["edu0", "virtio-blk0"]

# The same program as `--stranger`, granted edu0 too: it must not reach the record of a
# device another process holds.
[process.iommu-stranger]
path = "/bin/iommu-tests"
devices = ["edu0"]
autostart = false
"#;

/// The processes of the `smp` suite's image: its driver (granted the pool, no quota, like
/// `stress`'s) and the dmad clients it starts.
pub const SMP_TEST_MANIFEST: &str = r#"
[process.smp-tests]
path = "/bin/smp-tests"
devices = ["virtio-blk0"]

[process.dma-worker]
path = "/bin/dma-worker"
devices = ["virtio-blk0"]
autostart = false
"#;

/// The processes of the `stress` suite's image: its driver (granted the pool, no quota) and
/// the workers it starts.
pub const STRESS_TEST_MANIFEST: &str = r#"
[process.stress-tests]
path = "/bin/stress-tests"
devices = ["virtio-blk0"]

[process.dma-worker]
path = "/bin/dma-worker"
devices = ["virtio-blk0"]
autostart = false
"#;

/// The processes of the `hostile` suite's image: its driver, granted the pool's device (to
/// hold buffers) and the right to kill dmad (to test init's restart; no other process in any
/// image has a `kills` right). The attacker it spawns gets no rights, or for the attacks that
/// need a buffer the `hostile-client` section's: the pool's device and nothing else.
pub const HOSTILE_TEST_MANIFEST: &str = r#"
[process.hostile-tests]
path = "/bin/hostile-tests"
devices = ["virtio-blk0"]
kills = ["dmad"]

[process.hostile-client]
path = "/bin/hostile-attacker"
devices = ["virtio-blk0"]
autostart = false
"#;

/// Where user-program build products go.
pub fn user_target_directory() -> PathBuf {
    workspace_root().join("target").join("user")
}

/// Builds every user program for `arch` and returns the initfs files: `(path, contents)`
/// for `/bin/init`, `/bin/dmad`, `/bin/dmastat`, the guest benchmark's `bench-server` and
/// `dmabench`, the `process` and `dma` suites' programs and `/bin/not-an-elf`.
pub fn user_programs(arch: Arch, profile: Profile) -> Result<Vec<(String, Vec<u8>)>> {
    build(arch, profile)?;
    let directory = user_target_directory()
        .join(arch.rust_target())
        .join(match profile {
            Profile::Debug => "debug",
            Profile::Release => "release",
        });
    let mut files = Vec::new();
    for program in PACKAGES.iter().flat_map(|(_, programs)| programs.iter()) {
        let path = directory.join(program);
        let bytes = std::fs::read(&path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        check_user_elf(&bytes).map_err(|reason| format!("{}: {reason}", path.display()))?;
        files.push((format!("/bin/{program}"), bytes));
    }
    files.push((NOT_AN_ELF.0.to_string(), NOT_AN_ELF.1.as_bytes().to_vec()));
    Ok(files)
}

/// The files of an image whose manifest is `manifest`: of `programs` (from
/// [`user_programs`]) only `/bin/init`, which the kernel starts, and the programs the
/// manifest's processes name. The default image thus carries no test program.
pub fn image_programs(
    manifest: &str,
    programs: Vec<(String, Vec<u8>)>,
) -> Result<Vec<(String, Vec<u8>)>> {
    let parsed = image::manifest::Manifest::parse(manifest)
        .map_err(|error| format!("cannot parse the manifest: {error}"))?;
    let mut wanted = vec!["/bin/init".to_string()];
    for process in parsed.processes() {
        let process = process.map_err(|error| format!("bad process in the manifest: {error}"))?;
        wanted.push(process.path.to_string());
    }
    if let Some(missing) = wanted
        .iter()
        .find(|path| !programs.iter().any(|(file, _)| file == *path))
    {
        return fail(format!(
            "the manifest starts {missing}, which no package builds"
        ));
    }
    Ok(programs
        .into_iter()
        .filter(|(path, _)| wanted.contains(path))
        .collect())
}

/// Runs cargo for every user package at once.
fn build(arch: Arch, profile: Profile) -> Result<()> {
    let script = workspace_root().join("services/userlib/user.ld");
    let script = script
        .canonicalize()
        .map_err(|error| format!("cannot find {}: {error}", script.display()))?;
    let flags = [
        "-C".to_string(),
        "relocation-model=static".to_string(),
        "-C".to_string(),
        format!("link-arg=-T{}", script.display()),
        "-C".to_string(),
        "link-arg=--no-dynamic-linker".to_string(),
        "-C".to_string(),
        "link-arg=-zmax-page-size=4096".to_string(),
        "-C".to_string(),
        "link-arg=--strip-debug".to_string(),
    ];
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(workspace_root())
        .args(["build", "--target", arch.rust_target()])
        .env("CARGO_TARGET_DIR", user_target_directory())
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"))
        .env_remove("RUSTFLAGS");
    for (package, _) in PACKAGES {
        command.args(["--package", package]);
    }
    if profile == Profile::Release {
        command.arg("--release");
    }
    let status = command
        .status()
        .map_err(|error| format!("cannot run {command:?}: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        fail(format!("{command:?} failed ({status})"))
    }
}

/// Checks that `bytes` is a user program the kernel can load: a 64-bit little-endian
/// executable whose `PT_LOAD` segments are page-aligned, lie between `USER_IMAGE_BASE` and
/// the stack's guard page, are never both writable and executable, and whose entry point is
/// in an executable segment.
pub fn check_user_elf(bytes: &[u8]) -> std::result::Result<(), String> {
    const PT_LOAD: u64 = 1;
    const PF_X: u64 = 1;
    const PF_W: u64 = 2;
    const ET_EXEC: u64 = 2;
    const PAGE: u64 = 4096;
    let read = elf64_reader(bytes)?;
    if read(0x10, 2)? != ET_EXEC {
        return Err("not a static executable (e_type is not ET_EXEC)".into());
    }
    let entry = read(0x18, 8)?;
    let header_offset = read(0x20, 8)? as usize;
    let header_size = read(0x36, 2)? as usize;
    let header_count = read(0x38, 2)? as usize;
    let user_end = USER_STACK_TOP - USER_STACK_SIZE - PAGE;
    let mut entry_is_executable = false;
    let mut loads = 0;
    for index in 0..header_count {
        let header = header_offset + index * header_size;
        if read(header, 4)? != PT_LOAD {
            continue;
        }
        loads += 1;
        let flags = read(header + 4, 4)?;
        let (address, memory_size) = (read(header + 16, 8)?, read(header + 40, 8)?);
        let end = address
            .checked_add(memory_size)
            .ok_or(format!("segment {index} wraps"))?;
        if flags & PF_W != 0 && flags & PF_X != 0 {
            return Err(format!(
                "segment {index} at {address:#x} is writable and executable"
            ));
        }
        if address % PAGE != 0 {
            return Err(format!(
                "segment {index} at {address:#x} is not page-aligned"
            ));
        }
        if address < USER_IMAGE_BASE || end > user_end {
            return Err(format!(
                "segment {index} ({address:#x}..{end:#x}) is outside {USER_IMAGE_BASE:#x}..{user_end:#x}"
            ));
        }
        if flags & PF_X != 0 && (address..end).contains(&entry) {
            entry_is_executable = true;
        }
    }
    if loads == 0 {
        return Err("no loadable segment".into());
    }
    if !entry_is_executable {
        return Err(format!(
            "entry point {entry:#x} is not in an executable segment"
        ));
    }
    Ok(())
}

/// Checks that `bytes` is a 64-bit little-endian ELF file and returns a reader of its
/// little-endian fields: `read(offset, size)` for sizes up to 8, failing past the end.
pub fn elf64_reader(
    bytes: &[u8],
) -> std::result::Result<impl Fn(usize, usize) -> std::result::Result<u64, String> + '_, String> {
    if bytes.get(..4) != Some(b"\x7fELF") || bytes.get(4) != Some(&2) || bytes.get(5) != Some(&1) {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    Ok(
        move |offset: usize, size: usize| -> std::result::Result<u64, String> {
            let field = offset
                .checked_add(size)
                .and_then(|end| bytes.get(offset..end))
                .ok_or("truncated ELF")?;
            let mut value = [0u8; 8];
            value[..size.min(8)].copy_from_slice(&field[..size.min(8)]);
            Ok(u64::from_le_bytes(value))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 header with the given program headers `(flags, address, size)`.
    fn elf(entry: u64, segments: &[(u32, u64, u64)]) -> Vec<u8> {
        let mut bytes = vec![0u8; 64];
        bytes[..6].copy_from_slice(b"\x7fELF\x02\x01");
        bytes[0x10..0x12].copy_from_slice(&2u16.to_le_bytes());
        bytes[0x18..0x20].copy_from_slice(&entry.to_le_bytes());
        bytes[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        bytes[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        bytes[0x38..0x3A].copy_from_slice(&(segments.len() as u16).to_le_bytes());
        for &(flags, address, size) in segments {
            let mut header = vec![0u8; 56];
            header[..4].copy_from_slice(&1u32.to_le_bytes());
            header[4..8].copy_from_slice(&flags.to_le_bytes());
            header[16..24].copy_from_slice(&address.to_le_bytes());
            header[40..48].copy_from_slice(&size.to_le_bytes());
            bytes.extend(header);
        }
        bytes
    }

    #[test]
    fn accepts_a_w_xor_x_program_at_the_image_base() {
        let program = elf(
            0x400000,
            &[
                (5, 0x400000, 0x2000),
                (4, 0x402000, 0x1000),
                (6, 0x403000, 0x100000),
            ],
        );
        assert_eq!(check_user_elf(&program), Ok(()));
    }

    #[test]
    fn refuses_bad_layouts() {
        let writable_code = elf(0x400000, &[(7, 0x400000, 0x1000)]);
        assert!(check_user_elf(&writable_code)
            .unwrap_err()
            .contains("writable and executable"));
        let too_low = elf(0x1000, &[(5, 0x1000, 0x1000)]);
        assert!(check_user_elf(&too_low).unwrap_err().contains("outside"));
        let unaligned = elf(0x400010, &[(5, 0x400010, 0x1000)]);
        assert!(check_user_elf(&unaligned)
            .unwrap_err()
            .contains("page-aligned"));
        let entry_in_data = elf(0x401000, &[(5, 0x400000, 0x1000), (6, 0x401000, 0x1000)]);
        assert!(check_user_elf(&entry_in_data)
            .unwrap_err()
            .contains("entry point"));
        assert!(check_user_elf(b"not an elf").is_err());
    }

    #[test]
    fn the_process_suite_manifest_is_valid() {
        let text = format!(
            "[image]\nname = \"test-process\"\ntest-suite = \"process\"\n{}",
            PROCESS_TEST_MANIFEST
        );
        let manifest = image::manifest::Manifest::parse(&text).unwrap();
        manifest.validate().unwrap();
        let process = manifest.processes().next().unwrap().unwrap();
        assert_eq!(
            (process.name, process.path),
            ("process-tests", "/bin/process-tests")
        );
    }

    #[test]
    fn the_dma_suite_manifest_is_valid() {
        let text = format!(
            "{}{}",
            crate::guest::test_manifest("dma", &["dmad", "dmastat"]).unwrap(),
            DMA_TEST_MANIFEST
        );
        let manifest = image::manifest::Manifest::parse(&text).unwrap();
        manifest.validate().unwrap();
        let names: Vec<&str> = manifest
            .processes()
            .map(|process| process.unwrap().name)
            .collect();
        let dmad = names.iter().position(|name| *name == "dmad");
        let driver = names.iter().position(|name| *name == "dma-tests");
        assert!(
            dmad.is_some() && dmad < driver,
            "dmad must start before the driver: {names:?}"
        );
        for name in &names {
            assert_eq!(
                names.iter().filter(|other| *other == name).count(),
                1,
                "{name} twice"
            );
        }
        assert!(!names.contains(&"dma-stranger"));
    }

    #[test]
    fn the_virtio_blk_suite_manifest_is_valid() {
        let text = format!(
            "{}{}",
            crate::guest::test_manifest("virtio-blk", &["dmad"]).unwrap(),
            BLK_TEST_MANIFEST
        );
        let manifest = image::manifest::Manifest::parse(&text).unwrap();
        manifest.validate().unwrap();
        let processes: Vec<_> = manifest
            .processes()
            .map(|process| process.unwrap())
            .collect();
        let names: Vec<&str> = processes.iter().map(|process| process.name).collect();
        assert_eq!(names, ["dmad", "blk-tests", "virtio-blk"]);
        assert!(!processes[2].autostart);
        assert!(manifest.pools().count() > 0, "the pool section is kept");
    }

    #[test]
    fn other_suites_do_not_start_the_block_driver() {
        let text = crate::guest::test_manifest("dma", &["dmad", "dmastat"]).unwrap();
        assert!(text.contains("[process.dmad]") && text.contains("[pool.virtio-blk0]"));
        assert!(!text.contains("[process.virtio-blk]"), "{text}");
        assert!(!text.contains("disk-demo"), "{text}");
        assert!(!text.contains("name = \"default\""), "{text}");
    }

    #[test]
    fn the_default_image_holds_only_what_its_manifest_starts() {
        let manifest = crate::guest::default_manifest().unwrap();
        let programs = PACKAGES
            .iter()
            .flat_map(|(_, programs)| programs.iter())
            .map(|program| (format!("/bin/{program}"), Vec::new()))
            .chain([(NOT_AN_ELF.0.to_string(), Vec::new())])
            .collect();
        let files: Vec<String> = image_programs(&manifest, programs)
            .unwrap()
            .into_iter()
            .map(|(path, _)| path)
            .collect();
        assert_eq!(
            files,
            [
                "/bin/init",
                "/bin/dmad",
                "/bin/dmastat",
                "/bin/shell",
                "/bin/virtio-blk",
                "/bin/nvme",
                "/bin/disk-demo"
            ]
        );
        assert!(image_programs("[process.x]\npath = \"/bin/x\"\n", Vec::new()).is_err());
    }

    /// Builds the real programs for both CPUs and checks each (slow: runs cargo twice).
    #[test]
    #[ignore = "builds every user program for both CPUs"]
    fn real_programs_build_and_pass_the_check() {
        for arch in Arch::ALL {
            let files = user_programs(arch, Profile::Debug).unwrap();
            assert!(files.iter().any(|(path, _)| path == "/bin/init"));
            assert!(files.iter().any(|(path, _)| path == "/bin/process-tests"));
            assert!(files.iter().any(|(path, _)| path == "/bin/dma-tests"));
            assert!(files.iter().any(|(path, _)| path == "/bin/not-an-elf"));
        }
    }
}
