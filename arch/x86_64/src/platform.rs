//! [`X86_64`]: this CPU's implementation of the kernel's [`Arch`] contract.

use crate::{cpu, interrupt_stacks, port, serial, trap};
use core::fmt;
use kernel_core::{Arch, ExitStatus, InterruptStack};
use x86_64::instructions::{hlt, interrupts, tlb};
use x86_64::VirtAddr;

/// Describes the CPU and boot protocol in the boot log.
pub const NAME: &str = "x86_64 (PVH boot, q35)";

/// QEMU's `isa-debug-exit` port: writing `v` exits QEMU with status `(v << 1) | 1`.
const DEBUG_EXIT_PORT: u16 = 0xf4;

/// Where QEMU q35's firmware (SeaBIOS) places the PCI Express configuration window
/// (PCIEXBAR): 256 MiB at 3 GiB, buses 0..=255. The ACPI MCFG table says the same and the
/// PVH memory map shows the range reserved; the kernel takes this constant instead of
/// parsing ACPI, so a machine with another layout needs this changed.
pub const Q35_ECAM_BASE: u64 = 0xb000_0000;
/// Size of the q35 ECAM window.
pub const Q35_ECAM_SIZE: u64 = 0x1000_0000;
/// Written for success: QEMU exits with 33.
pub const DEBUG_EXIT_SUCCESS: u32 = 0x10;
/// Written for failure: QEMU exits with 35.
pub const DEBUG_EXIT_FAILURE: u32 = 0x11;

/// The x86_64 port of coherent.
pub struct X86_64;

impl Arch for X86_64 {
    const NAME: &'static str = NAME;
    const TARGET: &'static str = "x86_64";

    const RESERVED_LOW_MEMORY: u64 = 1 << 20;

    fn console_write(bytes: &[u8]) {
        serial::write_bytes(bytes);
    }

    /// COM1: ISA IRQ 4, through the MADT's overrides.
    fn console_input_line(
        machine: &kernel_core::machine::MachineDescription,
    ) -> Option<kernel_core::interrupt::WiredLine> {
        Some(kernel_core::interrupt::io_apic::isa_line(
            serial::COM1_IRQ,
            machine.overrides(),
        ))
    }

    fn console_enable_input() {
        serial::enable_receive_interrupt();
    }

    fn console_read_byte() -> Option<u8> {
        serial::read_byte()
    }

    fn power_off(status: ExitStatus) -> ! {
        power_off(status)
    }

    fn halt() -> ! {
        halt()
    }

    fn breakpoint() {
        // `int3` traps to our handler, which counts it and resumes after it.
        interrupts::int3();
    }

    fn breakpoints_caught() -> u64 {
        trap::breakpoints_caught()
    }

    #[inline]
    fn cpu_index() -> usize {
        crate::syscall::cpu_index()
    }

    unsafe fn start_cpu(index: usize, hardware_id: u64, stack_top: u64, kernel_root: u64) -> bool {
        // SAFETY: the caller upholds the contract.
        unsafe { crate::smp::start_cpu(index, hardware_id, stack_top, kernel_root) }
    }

    fn boot_cpu_hardware_id() -> u64 {
        crate::smp::boot_apic_id()
    }

    fn hardware_random() -> Option<u64> {
        crate::random::word()
    }

    fn hardware_random_name() -> Option<&'static str> {
        crate::random::present().then_some("rdrand")
    }

    fn send_ipi(index: usize) {
        crate::smp::send_ipi(index);
    }

    fn use_machine(machine: &kernel_core::machine::MachineDescription) {
        crate::io_apic::configure(machine.io_apics());
    }

    fn physical_to_virtual(physical: u64) -> usize {
        physical_to_virtual(physical)
    }

    type PageTableFormat = crate::paging::X86_64PageTable;

    const MEMORY_ATTRIBUTES: u64 = crate::paging::PAT_VALUE;

    fn memory_attributes() -> u64 {
        crate::cpu::pat()
    }

    unsafe fn activate_kernel_root(root: u64) {
        // SAFETY: the caller guarantees the new tables map everything the kernel uses.
        unsafe { cpu::load_root(root) };
    }

    fn invalidate_page(virtual_address: u64) {
        tlb::flush(VirtAddr::new_truncate(virtual_address));
    }

    fn invalidate_all() {
        // Reloading CR3 with its own value only flushes non-global TLB entries, and coherent
        // sets no global ones.
        tlb::flush_all();
    }

    fn synchronize_code(_address: usize, _length: usize) {}

    fn console_device() -> Option<(u64, u64)> {
        None
    }

    fn pci_ecam() -> Option<(u64, u64)> {
        Some((Q35_ECAM_BASE, Q35_ECAM_SIZE))
    }

    unsafe fn set_console_address(_virtual_address: usize) {}

    fn boot_stack_guard() -> u64 {
        core::ptr::addr_of!(crate::boot::BOOT_STACK) as u64
    }

    fn interrupt_stacks() -> &'static [InterruptStack] {
        interrupt_stacks::all()
    }

    fn probe_read(address: u64) -> Result<u64, kernel_core::Fault> {
        crate::probe::read(address)
    }

    unsafe fn copy_user(destination: *mut u8, source: *const u8, length: usize) -> bool {
        // SAFETY: the caller keeps `copy_user`'s contract, which is `user_copy::copy`'s.
        unsafe { crate::user_copy::copy(destination, source, length) }
    }

    fn user_copies_recovered() -> u64 {
        crate::user_copy::recovered()
    }

    fn dma_cache_line() -> u64 {
        crate::dma_sync::LINE
    }

    /// Nothing: DMA snoops the caches (see `dma_sync`).
    unsafe fn dma_sync_lines(
        _plan: &kernel_core::dma_sync::LinePlan,
        _direction: kernel_core::dma_sync::SyncDirection,
    ) {
    }

    fn dma_barrier() {
        crate::dma_sync::barrier();
    }
}

/// Where physical memory is readable: the linear map, which the early tables already
/// provide for the first 4 GiB and the kernel's own tables keep for all RAM.
pub fn physical_to_virtual(physical: u64) -> usize {
    (kernel_core::layout::LINEAR_MAP_BASE + physical) as usize
}

/// Exits QEMU through `isa-debug-exit` with `status`; halts if that device is absent.
pub fn power_off(status: ExitStatus) -> ! {
    let value = match status {
        ExitStatus::Success => DEBUG_EXIT_SUCCESS,
        ExitStatus::Failure => DEBUG_EXIT_FAILURE,
    };
    // SAFETY: the debug-exit port is ours; on real hardware the write is ignored.
    unsafe { port::write_u32(DEBUG_EXIT_PORT, value) };
    halt()
}

/// Disables interrupts and halts forever.
pub fn halt() -> ! {
    interrupts::disable();
    loop {
        hlt();
    }
}

/// A `fmt::Write` onto the serial console, for reports that must not depend on the kernel.
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        serial::write_bytes(text.as_bytes());
        Ok(())
    }
}
