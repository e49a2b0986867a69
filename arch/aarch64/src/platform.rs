//! [`Aarch64`]: this CPU's implementation of the kernel's [`Arch`] contract.

use crate::{gic, serial, timer, trap};
use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{Readable, Writeable, DAIF, MAIR_EL1, TTBR0_EL1, TTBR1_EL1};
use core::arch::asm;
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel_core::machine::{InterruptController, MachineDescription, PsciConduit};
use kernel_core::{Arch, ExitStatus};

/// Describes the CPU and boot protocol in the boot log.
pub const NAME: &str = "aarch64 (Linux Image boot, virt)";

/// Where the kernel image is mapped: virtual = physical + this.
pub const KERNEL_VIRTUAL_OFFSET: u64 = 0xFFFF_FFFF_8000_0000;

/// Semihosting `SYS_EXIT` operation number.
const SEMIHOSTING_EXIT: u32 = 0x18;
/// `ADP_Stopped_ApplicationExit`: the exit reason that carries a status code.
const APPLICATION_EXIT: u64 = 0x20026;
/// PSCI `SYSTEM_OFF` function id.
const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;

/// The aarch64 port of coherent.
pub struct Aarch64;

impl Arch for Aarch64 {
    const NAME: &'static str = NAME;
    const TARGET: &'static str = "aarch64";

    const RESERVED_LOW_MEMORY: u64 = 0;

    fn console_write(bytes: &[u8]) {
        serial::write_bytes(bytes);
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
        // `brk` has no wrapper in `aarch64-cpu`.
        // SAFETY: `brk` traps to our handler, which counts it and resumes after it.
        unsafe { asm!("brk #0", options(nomem, nostack)) };
    }

    fn breakpoints_caught() -> u64 {
        trap::breakpoints_caught()
    }

    fn physical_to_virtual(physical: u64) -> usize {
        physical_to_virtual(physical)
    }

    type PageTableFormat = crate::paging::Aarch64PageTable;

    const MEMORY_ATTRIBUTES: u64 = crate::paging::MAIR_VALUE;

    fn memory_attributes() -> u64 {
        MAIR_EL1.get()
    }

    unsafe fn activate_kernel_root(root: u64) {
        // The caller guarantees the new tables map everything the kernel uses. TTBR0 gets
        // the same root: its lower-half entries are empty until a process has its own.
        barrier::dsb(barrier::ISHST);
        TTBR1_EL1.set(root);
        TTBR0_EL1.set(root);
        barrier::isb(barrier::SY);
        Self::invalidate_all();
    }

    fn invalidate_page(virtual_address: u64) {
        // TLB maintenance stays hand-written: `aarch64-cpu` has no TLBI helpers.
        // SAFETY: TLB maintenance for one page, all address spaces; no memory is touched.
        unsafe {
            asm!(
                "dsb ishst",
                "tlbi vaae1is, {page}",
                "dsb ish",
                "isb",
                page = in(reg) (virtual_address >> 12) & ((1 << 44) - 1),
                options(nostack, preserves_flags)
            )
        };
    }

    fn invalidate_all() {
        // SAFETY: TLB maintenance only (no TLBI helper in `aarch64-cpu`).
        unsafe {
            asm!(
                "dsb ishst",
                "tlbi vmalle1is",
                "dsb ish",
                "isb",
                options(nostack, preserves_flags)
            )
        };
    }

    fn synchronize_code(address: usize, length: usize) {
        // Cache lines are at least 64 bytes on every ARMv8 core QEMU models; CTR_EL0 would give
        // the exact minimum, but a smaller step only repeats work.
        const LINE: usize = 64;
        let start = address & !(LINE - 1);
        let end = address + length;
        // Cache maintenance by address stays hand-written: `aarch64-cpu` has no DC/IC helpers.
        for line in (start..end).step_by(LINE) {
            // SAFETY: cleaning a data-cache line by address touches no memory's contents.
            unsafe { asm!("dc cvau, {}", in(reg) line, options(nostack, preserves_flags)) };
        }
        barrier::dsb(barrier::ISH);
        for line in (start..end).step_by(LINE) {
            // SAFETY: invalidating instruction-cache lines touches no memory's contents.
            unsafe { asm!("ic ivau, {}", in(reg) line, options(nostack, preserves_flags)) };
        }
        barrier::dsb(barrier::ISH);
        barrier::isb(barrier::SY);
    }

    /// QEMU `virt`'s fixed layout: GICv2 at 0x0800_0000 / 0x0801_0000, PL011 at
    /// 0x0900_0000, the virtual timer on PPI 11 (interrupt 27), one CPU with affinity 0, and
    /// PSCI through `smc` when we were entered at EL2 (nothing above us but EL3 firmware) or
    /// `hvc` otherwise.
    fn machine_defaults() -> MachineDescription {
        let mut machine = MachineDescription::new();
        machine.interrupt_controller = InterruptController::GicV2 {
            distributor: (gic::DISTRIBUTOR_BASE, gic::DISTRIBUTOR_SIZE),
            cpu_interface: (gic::CPU_INTERFACE_BASE, gic::CPU_INTERFACE_SIZE),
        };
        machine.console = Some((serial::PL011_BASE, serial::PL011_SIZE));
        machine.console_interrupt = Some(kernel_core::interrupt::WiredLine {
            number: serial::PL011_INTERRUPT_ID,
            trigger: kernel_core::interrupt::Trigger::Level,
            polarity: kernel_core::interrupt::Polarity::ActiveHigh,
        });
        machine.timer_interrupt = Some(timer::DEFAULT_INTERRUPT_ID);
        machine.psci = Some(if entered_at_el2() {
            PsciConduit::SecureMonitor
        } else {
            PsciConduit::Hypervisor
        });
        machine.push_cpu(0);
        machine
    }

    /// Takes the GIC, the timer's interrupt, the PSCI conduit and the console UART from the
    /// description (the early console used QEMU `virt`'s PL011 address until now).
    #[inline]
    fn cpu_index() -> usize {
        crate::smp::cpu_index()
    }

    unsafe fn start_cpu(index: usize, hardware_id: u64, stack_top: u64, kernel_root: u64) -> bool {
        // SAFETY: the caller upholds the contract.
        unsafe { crate::smp::start_cpu(index, hardware_id, stack_top, kernel_root) }
    }

    fn boot_cpu_hardware_id() -> u64 {
        crate::smp::boot_mpidr()
    }

    fn hardware_random() -> Option<u64> {
        crate::random::word()
    }

    fn hardware_random_name() -> Option<&'static str> {
        crate::random::present().then_some("rndr")
    }

    fn relax() {
        // SAFETY: a hint instruction; no memory or register is touched.
        unsafe { asm!("yield", options(nomem, nostack, preserves_flags)) };
    }

    fn send_ipi(index: usize) {
        crate::smp::send_ipi(index);
    }

    fn use_machine(machine: &MachineDescription) {
        gic::configure(machine.interrupt_controller);
        gic::v2m::configure(machine.msi_frame);
        if let Some(id) = machine.timer_interrupt {
            timer::set_interrupt(id);
        }
        if let Some(conduit) = machine.psci {
            PSCI_SECURE_MONITOR.store(conduit == PsciConduit::SecureMonitor, Ordering::Relaxed);
            PSCI_KNOWN.store(true, Ordering::Relaxed);
        }
        if let Some(console) = machine.console {
            serial::set_device(console);
        }
    }

    fn console_device() -> Option<(u64, u64)> {
        Some(serial::device())
    }

    fn pci_ecam() -> Option<(u64, u64)> {
        // QEMU `virt`'s PCI host bridge is described by the device tree; the kernel does not
        // scan it (its block device uses virtio-mmio).
        None
    }

    unsafe fn set_console_address(virtual_address: usize) {
        // SAFETY: the caller guarantees the mapping.
        unsafe { serial::set_address(virtual_address) };
    }

    fn boot_stack_guard() -> u64 {
        core::ptr::addr_of!(crate::boot::BOOT_STACK) as u64
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
        crate::dma_sync::line()
    }

    unsafe fn dma_sync_lines(
        plan: &kernel_core::dma_sync::LinePlan,
        direction: kernel_core::dma_sync::SyncDirection,
    ) {
        // SAFETY: the caller keeps `dma_sync_lines`' contract, which is `dma_sync::run`'s.
        unsafe { crate::dma_sync::run(plan, direction) }
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

static POWERING_OFF: AtomicBool = AtomicBool::new(false);

/// The PSCI conduit is `smc` (true) or `hvc`: from the machine description once the kernel
/// hands it over; before that from the entry exception level.
static PSCI_SECURE_MONITOR: AtomicBool = AtomicBool::new(false);
/// Whether [`PSCI_SECURE_MONITOR`] holds the description's answer.
static PSCI_KNOWN: AtomicBool = AtomicBool::new(false);

/// Exits QEMU with `status` through semihosting (which carries a status), falling back to
/// PSCI `SYSTEM_OFF` (which does not) when semihosting is unavailable.
pub fn power_off(status: ExitStatus) -> ! {
    // Without `-semihosting`, `hlt` is an undefined instruction and the trap handler calls
    // us again: the second time, go straight to PSCI.
    if !POWERING_OFF.swap(true, Ordering::SeqCst) {
        let code = match status {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
        };
        let block: [u64; 2] = [APPLICATION_EXIT, code];
        // Semihosting and PSCI calls have no wrapper in `aarch64-cpu`.
        // SAFETY: semihosting reads the two-word block and exits QEMU; it does not return
        // on success.
        unsafe {
            asm!("hlt #0xf000", in("w0") SEMIHOSTING_EXIT, in("x1") block.as_ptr(), options(nostack))
        };
    }
    let secure_monitor = if PSCI_KNOWN.load(Ordering::Relaxed) {
        PSCI_SECURE_MONITOR.load(Ordering::Relaxed)
    } else {
        entered_at_el2()
    };
    // PSCI calls have no wrapper in `aarch64-cpu`.
    // SAFETY: PSCI SYSTEM_OFF does not return; the conduit is the device tree's `/psci`
    // method, or (before it is read) `smc` when we own EL2's place, `hvc` otherwise.
    unsafe {
        if secure_monitor {
            asm!("smc #0", in("x0") PSCI_SYSTEM_OFF, options(nomem, nostack));
        } else {
            asm!("hvc #0", in("x0") PSCI_SYSTEM_OFF, options(nomem, nostack));
        }
    }
    halt()
}

/// Whether PSCI calls go through `smc` (else `hvc`).
pub fn psci_secure_monitor() -> bool {
    if PSCI_KNOWN.load(Ordering::Relaxed) {
        PSCI_SECURE_MONITOR.load(Ordering::Relaxed)
    } else {
        entered_at_el2()
    }
}

/// Whether the boot code found itself at EL2 (and dropped to EL1).
fn entered_at_el2() -> bool {
    // SAFETY: the boot code writes ENTERED_AT_EL2 once before any Rust runs; afterwards it is
    // only read.
    unsafe { core::ptr::addr_of!(crate::boot::ENTERED_AT_EL2).read() != 0 }
}

/// Masks interrupts and waits forever.
pub fn halt() -> ! {
    DAIF.write(DAIF::D::Masked + DAIF::A::Masked + DAIF::I::Masked + DAIF::F::Masked);
    loop {
        aarch64_cpu::asm::wfi();
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
