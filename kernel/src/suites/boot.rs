//! The `boot` suite: what the arch crate and boot protocol handed over; and the harness's
//! deliberate failures.

use crate::arch::{Arch, Cpu, ExitStatus};
use crate::ensure;
use crate::platform::Platform;
use crate::testing::{Suite, TestResult};
use kernel_core::machine::{InterruptController, Source};
use kernel_core::RegionKind;

/// How far below `-m` the firmware's holes may take the reported RAM (the x86 legacy hole
/// at 640 KiB–1 MiB and a few reserved pages).
const FIRMWARE_HOLES_BYTES: u64 = 1 << 20;

/// The `boot` suite.
pub fn run(platform: &Platform) -> ExitStatus {
    let mut suite = Suite::new("boot");
    suite.run("boot_reached_kernel_main", || boot_reached(platform));
    suite.run("memory_map_matches_qemu", || memory_map_matches(platform));
    suite.run("kernel_image_lies_in_ram", || kernel_image_in_ram(platform));
    suite.run("initrd_found_and_manifest_read", || manifest_read(platform));
    suite.run("breakpoint_caught_and_resumed", breakpoint_resumes);
    suite.run("machine_described_by_acpi", || machine_from_acpi(platform));
    suite.run("pci_functions_have_their_bars", || pci_bars(platform));
    suite.run("wired_lines_route_and_mask", || {
        super::interrupt_routing::wired_lines_route_and_mask(platform)
    });
    suite.run("iommu_confines_edu_dma", || {
        super::iommu_dma::edu_dma_is_confined(platform)
    });
    suite.finish()
}

/// Where the machine has a PCI host bridge, the harness gives it a virtio block function
/// (x86_64: the disk; aarch64: an extra `virtio-blk-pci`), which must be in the device table
/// with every memory BAR at a real address and an interrupt: the firmware's on x86_64, on
/// aarch64 the kernel's own BAR assignment from the device tree's window and the GIC
/// interrupt its `interrupt-map` gives.
fn pci_bars(platform: &Platform) -> TestResult {
    if platform.machine.pci_hosts().next().is_none() {
        return Ok(());
    }
    let functions: alloc::vec::Vec<_> = crate::devices::all()
        .into_iter()
        .filter(|device| device.pci.is_some())
        .collect();
    ensure!(
        !functions.is_empty(),
        "no virtio PCI function in the device table"
    );
    for device in &functions {
        ensure!(
            !device.regions.is_empty() && device.regions.iter().all(|(base, _)| *base != 0),
            "{} has unassigned BARs: {:x?}",
            device.name,
            device.regions
        );
        ensure!(
            device.interrupt.is_some(),
            "{} has no interrupt (firmware line or device-tree interrupt-map)",
            device.name
        );
        let mut description = alloc::string::String::new();
        let _ = device.write_description(&mut description);
        log::info!(
            "{}: {}",
            device.name,
            description.trim_end().replace('\n', "; ")
        );
    }
    Ok(())
}

fn boot_reached(platform: &Platform) -> TestResult {
    let image = platform.boot.kernel_image;
    ensure!(!Cpu::NAME.is_empty(), "the arch crate gave no CPU name");
    ensure!(image.size > 0, "kernel image has size 0");
    ensure!(
        image.base.is_multiple_of(4096),
        "kernel image at {:#x} is not page-aligned",
        image.base
    );
    Ok(())
}

fn memory_map_matches(platform: &Platform) -> TestResult {
    let Some(expected_mib) = platform.command_line.number("coherent.expect-ram-mib") else {
        return Err(crate::testing::Failure::new(format_args!(
            "the command line lacks coherent.expect-ram-mib (the harness's -m)"
        )));
    };
    let expected = expected_mib << 20;
    let ram = platform.ram_bytes();
    ensure!(
        ram <= expected,
        "memory map reports {ram} bytes of RAM, more than -m {expected}"
    );
    ensure!(
        expected - ram <= FIRMWARE_HOLES_BYTES,
        "memory map reports {ram} bytes of RAM; -m gave {expected} ({} KiB missing)",
        (expected - ram) / 1024
    );
    Ok(())
}

fn kernel_image_in_ram(platform: &Platform) -> TestResult {
    let image = platform.boot.kernel_image;
    let inside = platform.regions().any(|region| {
        region.kind == RegionKind::Ram
            && region.base <= image.base
            && image.base + image.size <= region.end()
    });
    ensure!(
        inside,
        "kernel image {:#x}+{:#x} is not inside one RAM region",
        image.base,
        image.size
    );
    Ok(())
}

fn manifest_read(platform: &Platform) -> TestResult {
    ensure!(platform.initrd.is_some(), "the boot loader gave no initrd");
    let archive = platform.initfs();
    ensure!(
        archive.is_some(),
        "the initrd is not a valid initfs archive"
    );
    let manifest = platform.manifest();
    ensure!(
        manifest.is_some(),
        "the initfs has no well-formed manifest.toml"
    );
    let image = manifest.and_then(|manifest| manifest.image().ok());
    ensure!(image.is_some(), "the manifest has no valid [image] section");
    let suite = image.and_then(|image| image.test_suite);
    ensure!(
        suite == Some("boot"),
        "the manifest names test suite {suite:?}, expected boot"
    );
    Ok(())
}

fn breakpoint_resumes() -> TestResult {
    let before = Cpu::breakpoints_caught();
    Cpu::breakpoint();
    let after = Cpu::breakpoints_caught();
    ensure!(
        after == before + 1,
        "breakpoint count went {before} -> {after}, expected +1"
    );
    Ok(())
}

/// Touches an address no page table maps, for the harness's own failure test.
pub fn deliberate_fault() -> ! {
    log::warn!("coherent.selftest=fault: reading an unmapped address on purpose");
    let address = 0x0000_7000_dead_0000_u64 as *const u64;
    // SAFETY: not safe at all, on purpose: the read must fault, and the exception handler
    // reports it and powers off. Nothing after it runs.
    let value = unsafe { address.read_volatile() };
    panic!("read of an unmapped address returned {value:#x} instead of faulting");
}

/// With an RSDP (x86_64 under PVH), the PCI host bridges, the interrupt controller, the CPUs
/// and the I/O APICs come from ACPI, not from a fallback; without one, no fact claims ACPI.
fn machine_from_acpi(platform: &Platform) -> TestResult {
    let machine = &platform.machine;
    let from_acpi = |source: Source| matches!(source, Source::Acpi(_));
    if platform.boot.acpi_rsdp.is_none() {
        ensure!(
            !machine.pci_hosts().any(|host| from_acpi(host.source))
                && !from_acpi(machine.interrupt_controller_source),
            "no RSDP, yet a fact claims to come from ACPI"
        );
        return Ok(());
    }
    ensure!(
        machine.pci_hosts().next().is_some(),
        "the MCFG gave no PCI host bridge"
    );
    for host in machine.pci_hosts() {
        ensure!(
            host.source == Source::Acpi("MCFG"),
            "PCI host bridge at {:#x} came from {}, not the MCFG",
            host.ecam_base,
            host.source
        );
    }
    ensure!(
        matches!(
            machine.interrupt_controller,
            InterruptController::Apic { local_apic } if local_apic != 0
        ) && machine.interrupt_controller_source == Source::Acpi("APIC"),
        "the MADT gave no local APIC ({:?} from {})",
        machine.interrupt_controller,
        machine.interrupt_controller_source
    );
    ensure!(machine.cpus().next().is_some(), "the MADT gave no CPU");
    ensure!(
        machine.io_apics().next().is_some(),
        "the MADT gave no I/O APIC"
    );
    Ok(())
}
