//! The `boot` suite's check of wired-interrupt routing: an ISA IRQ, after the MADT's
//! overrides, programmed into its I/O APIC's redirection entry as the pure encoding says.

use crate::arch::Cpu;
use crate::ensure;
use crate::memory::kernel_space;
use crate::platform::Platform;
use crate::testing::TestResult;
use kernel_core::interrupt::io_apic::{isa_line, redirection_entry, MASKED};
use kernel_core::interrupt::InterruptControl;
use kernel_core::CacheType;

/// Routes the first overridden ISA IRQ (QEMU: the SCI, 9, level) — or IRQ 4 without
/// overrides — and reads its entry back: vector, trigger, polarity, masked; then the mask
/// bit follows `unmask` and `mask`. Nothing to check without I/O APICs (aarch64).
pub fn io_apic_routes_isa_lines(platform: &Platform) -> TestResult {
    let machine = &platform.machine;
    if machine.io_apics().next().is_none() {
        return Ok(());
    }
    let irq = machine
        .overrides()
        .map(|entry| entry.source)
        .find(|source| *source != 0)
        .unwrap_or(4);
    let line = isa_line(irq, machine.overrides());
    let mut map = |physical: u64, size: u64| {
        kernel_space::map_device(physical, size, CacheType::Device).unwrap_or(0)
    };
    let vector = Cpu::connect_line(line, &mut map);
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
    Cpu::unmask(vector);
    let unmasked = Cpu::routing_entry(vector).unwrap_or(MASKED);
    Cpu::mask(vector);
    let masked = Cpu::routing_entry(vector).unwrap_or(0);
    ensure!(
        unmasked & MASKED == 0 && masked & MASKED != 0,
        "the mask bit did not follow: unmasked {unmasked:#x}, masked {masked:#x}"
    );
    log::info!(
        "ISA IRQ {irq} -> GSI {} as vector {vector}: {entry:#018x}",
        line.number
    );
    Ok(())
}
