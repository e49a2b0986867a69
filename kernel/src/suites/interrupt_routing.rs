//! The `boot` suite's check of wired-interrupt routing, read back from the controller:
//! x86_64 routes an ISA IRQ, after the MADT's overrides, into its I/O APIC's redirection
//! entry exactly as the pure encoding says; aarch64 configures a PCI function's INTx SPI
//! (from the bridge's `interrupt-map`) level-triggered in the GIC. On both, the line is
//! connected masked and the mask follows `unmask` and `mask`.

use crate::arch::Cpu;
use crate::ensure;
use crate::memory::kernel_space;
use crate::platform::Platform;
use crate::testing::TestResult;
use kernel_core::interrupt::io_apic::{isa_line, redirection_entry, MASKED};
use kernel_core::interrupt::{InterruptControl, Polarity, Trigger, WiredLine};
use kernel_core::CacheType;

/// The check: the I/O APIC on x86_64, the GIC on aarch64.
pub fn wired_lines_route_and_mask(platform: &Platform) -> TestResult {
    let machine = &platform.machine;
    if machine.io_apics().next().is_some() {
        return io_apic_routes_isa_lines(platform);
    }
    let Some(device) = crate::devices::all()
        .into_iter()
        .find(|device| device.pci.is_some() && device.interrupt.is_some())
    else {
        return Ok(());
    };
    let line = WiredLine {
        number: device.interrupt.unwrap_or(0),
        trigger: device.trigger,
        polarity: Polarity::ActiveHigh,
    };
    let id = connect(line);
    ensure!(
        id.is_some(),
        "the GIC did not take {}'s line {line:?}",
        device.name
    );
    let id = id.unwrap_or(0);
    let state = |what| Cpu::routing_entry(id).ok_or(what);
    let connected = state("no GIC state").unwrap_or(u64::MAX);
    ensure!(
        connected == 0 && line.trigger == Trigger::Level,
        "{}'s INTx (id {id}, {line:?}) connected as {connected:#x}, expected level and \
         disabled (0)",
        device.name
    );
    check_mask_follows(id, |entry| entry & 1 == 0)?;
    log::info!("{}: INTx as GIC SPI {id}, level", device.name);
    Ok(())
}

fn connect(line: WiredLine) -> Option<u32> {
    let mut map = |physical: u64, size: u64| {
        kernel_space::map_device(physical, size, CacheType::Device).unwrap_or(0)
    };
    Cpu::connect_line(line, &mut map)
}

/// `unmask` then `mask` are seen in the entry (`is_masked` reads the mask from it).
fn check_mask_follows(id: u32, is_masked: impl Fn(u64) -> bool) -> TestResult {
    Cpu::unmask(id);
    let unmasked = Cpu::routing_entry(id).unwrap_or(0);
    Cpu::mask(id);
    let masked = Cpu::routing_entry(id).unwrap_or(0);
    ensure!(
        !is_masked(unmasked) && is_masked(masked),
        "the mask did not follow: unmasked {unmasked:#x}, masked {masked:#x}"
    );
    Ok(())
}

/// Routes the first overridden ISA IRQ other than the timer's (QEMU: 5, level) — or IRQ 4
/// without overrides — and compares its redirection entry with the pure encoding.
fn io_apic_routes_isa_lines(platform: &Platform) -> TestResult {
    let machine = &platform.machine;
    let irq = machine
        .overrides()
        .map(|entry| entry.source)
        .find(|source| *source != 0)
        .unwrap_or(4);
    let line = isa_line(irq, machine.overrides());
    let vector = connect(line);
    ensure!(
        vector.is_some(),
        "no I/O APIC routes ISA IRQ {irq} ({line:?})"
    );
    let vector = vector.unwrap_or(0);
    let entry = Cpu::routing_entry(vector);
    ensure!(entry.is_some(), "no redirection entry read back");
    let entry = entry.unwrap_or(0);
    let expected = redirection_entry(vector as u8, (entry >> 56) as u8, line, true);
    ensure!(
        entry == expected,
        "ISA IRQ {irq} ({line:?}): entry {entry:#018x}, expected {expected:#018x}"
    );
    check_mask_follows(vector, |entry| entry & MASKED != 0)?;
    log::info!(
        "ISA IRQ {irq} -> GSI {} as vector {vector}: {entry:#018x}",
        line.number
    );
    Ok(())
}
