//! QEMU command lines for coherent's two machines.
//!
//! x86_64 boots `q35` with the kernel ELF through PVH and exits through `isa-debug-exit`
//! (status `(v << 1) | 1`: 33 for success, 35 for failure). aarch64 boots `virt` with the raw
//! Image and exits through semihosting (status 0 for success, 1 for failure). KVM is used
//! for x86_64 when `/dev/kvm` opens read-write on an x86_64 host; TCG otherwise.

use crate::protocol::Ending;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The CPU a guest runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// QEMU `q35`.
    X86_64,
    /// QEMU `virt`.
    Aarch64,
}

impl Arch {
    /// Both CPUs, x86_64 first.
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

    /// The name used on the command line and in closing lines.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// Parses `x86_64` or `aarch64`.
    pub fn parse(name: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|arch| arch.name() == name)
    }

    /// The Rust target the guest is built for.
    pub fn rust_target(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-none",
            Arch::Aarch64 => "aarch64-unknown-none",
        }
    }

    /// The QEMU system emulator binary.
    pub fn qemu_binary(self) -> &'static str {
        match self {
            Arch::X86_64 => "qemu-system-x86_64",
            Arch::Aarch64 => "qemu-system-aarch64",
        }
    }

    /// QEMU's exit status when the guest powers off reporting success.
    pub fn success_status(self) -> i32 {
        match self {
            Arch::X86_64 => 33,
            Arch::Aarch64 => 0,
        }
    }
}

/// How QEMU executes guest code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accelerator {
    /// Hardware virtualisation through `/dev/kvm`.
    Kvm,
    /// QEMU's portable binary translator.
    Tcg,
}

impl Accelerator {
    /// The best accelerator for `arch` on this host and the CPU model to use with it: KVM
    /// for x86_64 guests on an x86_64 host where a probe shows KVM really works (see
    /// [`kvm_cpu_model`]), unless `COHERENT_ACCEL=tcg`; TCG otherwise.
    pub fn detect(arch: Arch) -> (Accelerator, &'static str) {
        let forced_tcg = std::env::var("COHERENT_ACCEL").as_deref() == Ok("tcg")
            || KVM_REFUSED.load(Ordering::Relaxed);
        let host_matches = cfg!(target_arch = "x86_64") && arch == Arch::X86_64;
        match kvm_cpu_model() {
            Some(cpu) if host_matches && !forced_tcg => (Accelerator::Kvm, cpu),
            _ => (Accelerator::Tcg, default_tcg_cpu(arch)),
        }
    }

    /// `kvm` or `tcg`.
    pub fn name(self) -> &'static str {
        match self {
            Accelerator::Kvm => "kvm",
            Accelerator::Tcg => "tcg",
        }
    }
}

/// The TCG CPU model: `max` on both, so the kernel's `sys:random` has a hardware source
/// (x86_64 RDRAND, aarch64 RNDR, both backed by the host's random source). aarch64 `max`
/// takes `pauth-impdef=on`: QEMU's default QARMA pointer-authentication algorithm is slow
/// to emulate. (aarch64 used `cortex-a72`, which has no RNDR; the kernel then falls back to
/// its jitter-seeded pool, and every suite passed on both models.)
fn default_tcg_cpu(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "max",
        Arch::Aarch64 => "max,pauth-impdef=on",
    }
}

/// The CPU model under which x86_64 KVM works on this host, probed once per process.
///
/// `/dev/kvm` opening is not enough: nested hypervisors may refuse MSRs that `-cpu host`
/// passes through (seen: IA32_ARCH_CAPABILITIES), and QEMU then aborts as soon as the vCPU
/// first runs. Each candidate boots its firmware (no disk, so it idles) for a moment and is
/// then told to quit on its monitor; the first that is still alive and exits cleanly wins.
pub fn kvm_cpu_model() -> Option<&'static str> {
    static PROBED: OnceLock<Option<&'static str>> = OnceLock::new();
    *PROBED.get_or_init(|| {
        let opens = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .is_ok();
        if !opens {
            return None;
        }
        ["host", "host,-arch-capabilities"]
            .into_iter()
            .find(|cpu| kvm_probe(cpu))
    })
}

fn kvm_probe(cpu: &str) -> bool {
    let child = Command::new(Arch::X86_64.qemu_binary())
        .args([
            "-machine",
            "q35",
            "-accel",
            "kvm",
            "-cpu",
            cpu,
            "-nodefaults",
            "-display",
            "none",
        ])
        .args(["-monitor", "stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else { return false };
    std::thread::sleep(Duration::from_millis(1500));
    if let Ok(Some(_)) = child.try_wait() {
        return false;
    }
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(b"quit\n");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

static KVM_REFUSED: AtomicBool = AtomicBool::new(false);

/// Boots `kernel` once under KVM with `coherent.selftest=probe` (take a breakpoint, start
/// init from `initrd`, power off at its first system call). If that does not end in the
/// success status within 5 s, KVM is not usable for coherent on this host and every later [`Machine`] of this process uses TCG. Returns why
/// KVM was refused, or `None` when it works (or was not going to be used anyway).
pub fn confirm_kvm(kernel: &Path, initrd: &Path) -> Option<String> {
    let mut machine = Machine::new(Arch::X86_64, kernel.to_path_buf(), initrd.to_path_buf());
    if machine.accelerator != Accelerator::Kvm {
        return None;
    }
    machine.command_line = "coherent.selftest=probe".to_string();
    let refusal = match crate::runner::run(&machine, Duration::from_secs(5), |_| {}) {
        Ok(run) if run.ending == Ending::Exited(Arch::X86_64.success_status()) => return None,
        Ok(run) => {
            let last = run
                .output
                .lines()
                .rev()
                .find(|line| !line.trim().is_empty())
                .unwrap_or("");
            format!(
                "the probe guest ended with {:?} (last line: {last})",
                run.ending
            )
        }
        Err(error) => format!("cannot start QEMU: {error}"),
    };
    KVM_REFUSED.store(true, Ordering::Relaxed);
    Some(refusal)
}

/// Which GIC an aarch64 `virt` machine gets (`-machine virt,gic-version=N`); x86_64 ignores
/// it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GicVersion {
    /// GICv2 (memory-mapped CPU interface): QEMU's default.
    #[default]
    V2,
    /// GICv3 (redistributors, system-register CPU interface).
    V3,
}

/// One guest machine to start.
#[derive(Clone, Debug)]
pub struct Machine {
    /// The CPU.
    pub arch: Arch,
    /// Kernel: the ELF on x86_64, the raw Image on aarch64.
    pub kernel: PathBuf,
    /// The initfs archive, passed as `-initrd`.
    pub initrd: PathBuf,
    /// RAM in MiB (`-m`).
    pub memory_mib: u32,
    /// The kernel command line (`-append`).
    pub command_line: String,
    /// How guest code runs.
    pub accelerator: Accelerator,
    /// QEMU's `-cpu` model.
    pub cpu: String,
    /// A device tree to boot with instead of QEMU's own (`-dtb`, aarch64 only).
    pub device_tree: Option<PathBuf>,
    /// Extra QEMU arguments (devices, drives).
    pub extra: Vec<String>,
    /// The interrupt controller of an aarch64 machine.
    pub gic: GicVersion,
    /// Serial on stdio multiplexed with the QEMU monitor (Ctrl-A X quits), for people.
    pub interactive: bool,
    /// An aarch64 `virt` machine with its SMMUv3 (`iommu=smmuv3`), which translates the
    /// PCI host bridge's functions. x86_64's VT-d is a `-device` in `extra` instead.
    pub smmu: bool,
    /// CPUs (`-smp`): 2 by default, or `COHERENT_SMP`; a suite may ask for more.
    pub cpus: u32,
}

/// CPUs a machine gets unless its suite says otherwise: `COHERENT_SMP`, else 2.
pub fn default_cpus() -> u32 {
    std::env::var("COHERENT_SMP")
        .ok()
        .and_then(|value| value.parse().ok())
        .filter(|&cpus| cpus >= 1)
        .unwrap_or(2)
}

impl Machine {
    /// A machine with coherent's defaults: 512 MiB (or `COHERENT_RAM_MIB`, for trying the
    /// suites on other RAM sizes), the best accelerator, no extras.
    pub fn new(arch: Arch, kernel: PathBuf, initrd: PathBuf) -> Machine {
        let (accelerator, cpu) = Accelerator::detect(arch);
        let memory_mib = std::env::var("COHERENT_RAM_MIB")
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(512);
        Machine {
            arch,
            kernel,
            initrd,
            memory_mib,
            command_line: String::new(),
            accelerator,
            cpu: cpu.to_string(),
            device_tree: None,
            extra: Vec::new(),
            gic: GicVersion::default(),
            interactive: false,
            smmu: false,
            cpus: default_cpus(),
        }
    }

    /// The QEMU arguments for this machine (without the binary).
    pub fn arguments(&self) -> Vec<String> {
        let mut arguments: Vec<String> = Vec::new();
        let mut push = |items: &[&str]| arguments.extend(items.iter().map(|s| s.to_string()));
        let mut machine = match (self.arch, self.gic) {
            (Arch::X86_64, _) => "q35",
            (Arch::Aarch64, GicVersion::V2) => "virt",
            (Arch::Aarch64, GicVersion::V3) => "virt,gic-version=3",
        }
        .to_string();
        if self.arch == Arch::Aarch64 && self.smmu {
            machine.push_str(",iommu=smmuv3");
        }
        // Several CPUs under TCG run on one host thread, round-robin (`thread=single`): a CPU
        // spinning for the guest kernel's big lock then yields (`pause` / `yield` end its
        // turn) to the CPU holding it, instead of burning a host core the holder needs — on
        // a loaded two-core host, multi-threaded TCG made lock holders wait for host time
        // slices. The guest still sees its CPUs interleave at every translated block.
        let accelerator = match (self.arch, self.accelerator) {
            (Arch::X86_64, Accelerator::Kvm) => "kvm",
            _ if self.cpus > 1 => "tcg,thread=single",
            _ => "tcg",
        };
        push(&[
            "-machine",
            &machine,
            "-accel",
            accelerator,
            "-cpu",
            &self.cpu,
        ]);
        let cpus = self.cpus.to_string();
        push(&[
            "-smp",
            &cpus,
            "-nodefaults",
            "-no-reboot",
            "-display",
            "none",
        ]);
        if self.interactive {
            push(&["-serial", "mon:stdio"]);
        } else {
            push(&["-serial", "stdio", "-monitor", "none"]);
        }
        match self.arch {
            Arch::X86_64 => push(&["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]),
            Arch::Aarch64 => push(&["-semihosting-config", "enable=on,target=native"]),
        }
        let memory = format!("{}M", self.memory_mib);
        let kernel = self.kernel.display().to_string();
        let initrd = self.initrd.display().to_string();
        push(&["-m", &memory, "-kernel", &kernel, "-initrd", &initrd]);
        push(&["-append", &self.command_line]);
        if let Some(tree) = &self.device_tree {
            push(&["-dtb", &tree.display().to_string()]);
        }
        arguments.extend(self.extra.iter().cloned());
        arguments
    }

    /// Asks QEMU to write the device tree it would give this machine to `path` and exit
    /// (`-machine virt,dumpdtb=PATH`), so the image tool can add nodes to it.
    ///
    /// # Errors
    /// When QEMU cannot run or writes no device tree.
    pub fn dump_device_tree(&self, path: &Path) -> std::io::Result<()> {
        let mut arguments = self.arguments();
        let machine = arguments
            .iter()
            .position(|argument| argument == "-machine")
            .map(|i| i + 1);
        if let Some(index) = machine {
            arguments[index] = format!("{},dumpdtb={}", arguments[index], path.display());
        }
        if let Some(index) = arguments.iter().position(|argument| argument == "-dtb") {
            arguments.drain(index..index + 2);
        }
        let output = Command::new(self.arch.qemu_binary())
            .args(&arguments)
            .output()?;
        if path.exists() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!(
                "QEMU wrote no device tree: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )))
        }
    }

    /// The full command.
    pub fn command(&self) -> Command {
        let mut command = Command::new(self.arch.qemu_binary());
        command.args(self.arguments());
        command
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(arch: Arch) -> Machine {
        let mut machine = Machine::new(arch, "k".into(), "i".into());
        machine.accelerator = Accelerator::Tcg;
        machine.cpu = default_tcg_cpu(arch).to_string();
        machine.command_line = "a=1 b".into();
        machine
    }

    #[test]
    fn x86_64_uses_debug_exit_and_pvh_kernel() {
        let arguments = machine(Arch::X86_64).arguments().join(" ");
        assert!(arguments.contains("-machine q35"));
        assert!(arguments.contains("isa-debug-exit,iobase=0xf4,iosize=0x04"));
        assert!(arguments.contains("-kernel k -initrd i"));
        assert!(arguments.contains("-m 512M"));
    }

    #[test]
    fn aarch64_uses_semihosting_and_never_kvm() {
        let mut machine = machine(Arch::Aarch64);
        machine.accelerator = Accelerator::Kvm;
        let arguments = machine.arguments();
        let mut gic_v3 = machine.clone();
        gic_v3.gic = GicVersion::V3;
        assert!(gic_v3
            .arguments()
            .join(" ")
            .contains("-machine virt,gic-version=3 "));
        assert!(arguments
            .join(" ")
            .contains("-semihosting-config enable=on,target=native"));
        assert!(arguments.join(" ").contains("-accel tcg"));
        let append = arguments.iter().position(|a| a == "-append").unwrap();
        assert_eq!(
            arguments[append + 1],
            "a=1 b",
            "the command line stays one argument"
        );
    }

    #[test]
    fn success_statuses_match_the_guest_exit_paths() {
        assert_eq!(Arch::X86_64.success_status(), (0x10 << 1) | 1);
        assert_eq!(Arch::Aarch64.success_status(), 0);
        assert_eq!(Arch::parse("aarch64"), Some(Arch::Aarch64));
        assert_eq!(Arch::parse("riscv64"), None);
    }
}
