//! What the kernel learned from the firmware tables (`sys:platform`), against what QEMU built.
//!
//! The expected values are QEMU's documented machine layouts: q35's MCFG window at
//! 0xb000_0000 (256 buses), its local APIC at 0xfee0_0000 and I/O APIC at 0xfec0_0000 with
//! the timer's ISA IRQ 0 overridden to GSI 2; `virt`'s ECAM (high: 0x40_1000_0000, 256
//! buses; or low: 0x3f00_0000, 16 buses), its GIC distributor at 0x0800_0000 with the GICv2
//! CPU interface at 0x0801_0000 or the GICv3 redistributors at 0x080a_0000, the virtual timer
//! on PPI 11 (GIC id 27) and the PL011 at 0x0900_0000. The kernel's own fallbacks use some of
//! the same numbers, so each check also demands the table the fact came from.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use dma_tests::text::read_text;
use process_tests::check::{errno_name, Outcome};
use process_tests::ensure;
use process_tests::runner::ARCH;

/// The lines of `sys:platform` that start with `key`, split into words after it.
fn lines(text: &str, key: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some(key)).then(|| words.map(String::from).collect())
        })
        .collect()
}

fn platform_text() -> Result<String, String> {
    read_text("sys:platform")
        .map_err(|error| format!("read sys:platform: {}", errno_name(error.errno)))
}

fn number(word: &str) -> Option<u64> {
    match word.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => word.parse().ok(),
    }
}

fn numbers(words: &[String]) -> Vec<Option<u64>> {
    words.iter().map(|word| number(word)).collect()
}

/// The PCI ECAM window is the one QEMU built, and a firmware table named it.
pub fn ecam_window_comes_from_the_tables() -> Outcome {
    let text = platform_text()?;
    let hosts = lines(&text, "pci-ecam");
    ensure!(hosts.len() == 1, "expected one pci-ecam line:\n{text}");
    let host = &hosts[0];
    ensure!(
        host.len() == 5,
        "pci-ecam line has {} words:\n{text}",
        host.len()
    );
    let values = numbers(&host[..4]);
    let (expected, source): (&[[u64; 4]], &str) = if ARCH == "x86_64" {
        (&[[0xb000_0000, 0x1000_0000, 0, 255]], "acpi-mcfg")
    } else {
        (
            &[
                [0x40_1000_0000, 0x1000_0000, 0, 255],
                [0x3f00_0000, 0x100_0000, 0, 15],
            ],
            "device-tree",
        )
    };
    ensure!(
        expected.iter().any(|window| window
            .iter()
            .zip(&values)
            .all(|(want, got)| Some(*want) == *got)),
        "pci-ecam {host:?} is not QEMU's window {expected:x?}"
    );
    ensure!(
        host[4] == source,
        "pci-ecam came from `{}`, expected `{source}`",
        host[4]
    );
    Ok(())
}

/// The interrupt controller is the one QEMU built, and a firmware table named it.
pub fn interrupt_controller_comes_from_the_tables() -> Outcome {
    let text = platform_text()?;
    let controllers = lines(&text, "interrupt-controller");
    ensure!(
        controllers.len() == 1,
        "expected one interrupt-controller line:\n{text}"
    );
    let controller = &controllers[0];
    let kind = controller.first().map(String::as_str).unwrap_or("");
    let values = numbers(&controller[1..controller.len().saturating_sub(1)]);
    let source = controller.last().map(String::as_str).unwrap_or("");
    if ARCH == "x86_64" {
        ensure!(
            kind == "apic",
            "interrupt controller `{kind}`, expected apic:\n{text}"
        );
        ensure!(
            values == [Some(0xfee0_0000)],
            "local APIC at {values:x?}, expected 0xfee00000"
        );
        ensure!(
            source == "acpi-apic",
            "interrupt controller from `{source}`, expected acpi-apic"
        );
        let io_apics = lines(&text, "io-apic");
        ensure!(
            io_apics.len() == 1 && numbers(&io_apics[0]) == [Some(0), Some(0xfec0_0000), Some(0)],
            "expected one I/O APIC (id 0 at 0xfec00000, GSI base 0):\n{text}"
        );
        ensure!(
            lines(&text, "override")
                .iter()
                .any(|entry| numbers(&entry[..2]) == [Some(0), Some(2)]),
            "no override of ISA IRQ 0 to GSI 2 (q35's timer):\n{text}"
        );
    } else {
        let expected: &[u64] = match kind {
            "gicv2" => &[0x0800_0000, 0x1_0000, 0x0801_0000, 0x1_0000],
            "gicv3" => &[0x0800_0000, 0x1_0000, 0x080a_0000, 0xf6_0000],
            _ => {
                return Err(format!(
                    "interrupt controller `{kind}`, expected a GIC:\n{text}"
                ))
            }
        };
        ensure!(
            values.len() == expected.len()
                && values
                    .iter()
                    .zip(expected)
                    .all(|(got, want)| *got == Some(*want)),
            "{kind} registers {values:x?}, expected {expected:x?}"
        );
        ensure!(
            source == "device-tree",
            "interrupt controller from `{source}`, expected device-tree"
        );
    }
    Ok(())
}

/// The CPUs are listed; on aarch64 the timer interrupt, console and PSCI conduit are QEMU's.
pub fn cpus_timer_console_and_psci_are_described() -> Outcome {
    let text = platform_text()?;
    let cpus = lines(&text, "cpu");
    ensure!(!cpus.is_empty(), "no cpu lines:\n{text}");
    ensure!(
        cpus.iter().any(|cpu| numbers(cpu) == [Some(0)]),
        "CPU 0 (the boot CPU's id on both QEMU machines) is not listed:\n{text}"
    );
    if ARCH == "aarch64" {
        let timer = lines(&text, "timer-interrupt");
        ensure!(
            timer.len() == 1 && numbers(&timer[0]) == [Some(27)],
            "virtual timer interrupt is not GIC id 27:\n{text}"
        );
        let console = lines(&text, "console");
        ensure!(
            console.len() == 1 && numbers(&console[0]) == [Some(0x0900_0000), Some(0x1000)],
            "console is not the PL011 at 0x9000000:\n{text}"
        );
        let psci = lines(&text, "psci");
        ensure!(
            psci.len() == 1 && matches!(psci[0][0].as_str(), "hvc" | "smc"),
            "no PSCI conduit:\n{text}"
        );
    }
    Ok(())
}

/// x86_64: NMI, machine check, debug and double fault each have their own stack, no two
/// overlap, and the page below each is an unmapped guard (looked up live by the kernel).
pub fn interrupt_stacks_are_distinct_and_guarded() -> Outcome {
    let text = platform_text()?;
    let stacks = lines(&text, "ist");
    for name in [
        "non-maskable-interrupt",
        "machine-check",
        "debug",
        "double-fault",
    ] {
        ensure!(
            stacks.iter().any(|stack| stack[0] == name),
            "no interrupt stack named `{name}`:\n{text}"
        );
    }
    let mut ranges = Vec::new();
    for stack in &stacks {
        ensure!(
            stack.len() == 5,
            "ist line {stack:?} is not NAME BOTTOM TOP GUARD STATE"
        );
        let (Some(bottom), Some(top), Some(guard)) =
            (number(&stack[1]), number(&stack[2]), number(&stack[3]))
        else {
            return Err(format!("ist line {stack:?} has a bad number"));
        };
        ensure!(bottom < top, "stack {} is empty or inverted", stack[0]);
        ensure!(
            guard + 4096 == bottom,
            "stack {}'s guard {guard:#x} is not the page right below {bottom:#x}",
            stack[0]
        );
        ensure!(
            stack[4] == "unmapped",
            "stack {}'s guard page is {}",
            stack[0],
            stack[4]
        );
        ranges.push((guard, top, stack[0].clone()));
    }
    for (index, (start, end, name)) in ranges.iter().enumerate() {
        for (other_start, other_end, other) in &ranges[index + 1..] {
            ensure!(
                end <= other_start || other_end <= start,
                "interrupt stacks {name} and {other} overlap (guards included)"
            );
        }
    }
    Ok(())
}
