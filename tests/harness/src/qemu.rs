//! QEMU command lines for coherent's two machines.
//!
//! x86_64 boots `q35` with the kernel ELF through PVH and exits through `isa-debug-exit`
//! (status `(v << 1) | 1`: 33 for success, 35 for failure). aarch64 boots `virt` with the raw
//! Image and exits through semihosting (status 0 for success, 1 for failure). KVM is used
//! for x86_64 when `/dev/kvm` opens read-write on an x86_64 host; TCG otherwise.

use std::path::PathBuf;
use std::process::Command;

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
    /// The best accelerator for `arch` on this host: KVM for x86_64 guests on an x86_64 host
    /// whose `/dev/kvm` opens read-write, unless `COHERENT_ACCEL=tcg`; TCG otherwise.
    pub fn detect(arch: Arch) -> Accelerator {
        if std::env::var("COHERENT_ACCEL").as_deref() == Ok("tcg") {
            return Accelerator::Tcg;
        }
        let host_matches = cfg!(target_arch = "x86_64") && arch == Arch::X86_64;
        let kvm_opens = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .is_ok();
        if host_matches && kvm_opens {
            Accelerator::Kvm
        } else {
            Accelerator::Tcg
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
    /// A device tree to boot with instead of QEMU's own (`-dtb`, aarch64 only).
    pub device_tree: Option<PathBuf>,
    /// Extra QEMU arguments (devices, drives).
    pub extra: Vec<String>,
    /// Serial on stdio multiplexed with the QEMU monitor (Ctrl-A X quits), for people.
    pub interactive: bool,
}

impl Machine {
    /// A machine with coherent's defaults: 512 MiB, the best accelerator, no extras.
    pub fn new(arch: Arch, kernel: PathBuf, initrd: PathBuf) -> Machine {
        Machine {
            arch,
            kernel,
            initrd,
            memory_mib: 512,
            command_line: String::new(),
            accelerator: Accelerator::detect(arch),
            device_tree: None,
            extra: Vec::new(),
            interactive: false,
        }
    }

    /// The QEMU arguments for this machine (without the binary).
    pub fn arguments(&self) -> Vec<String> {
        let mut arguments: Vec<String> = Vec::new();
        let mut push = |items: &[&str]| arguments.extend(items.iter().map(|s| s.to_string()));
        match (self.arch, self.accelerator) {
            (Arch::X86_64, Accelerator::Kvm) => {
                push(&["-machine", "q35", "-accel", "kvm", "-cpu", "host"])
            }
            (Arch::X86_64, Accelerator::Tcg) => {
                push(&["-machine", "q35", "-accel", "tcg", "-cpu", "max"])
            }
            (Arch::Aarch64, _) => {
                push(&["-machine", "virt", "-accel", "tcg", "-cpu", "cortex-a72"])
            }
        }
        push(&["-smp", "1", "-nodefaults", "-no-reboot", "-display", "none"]);
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
