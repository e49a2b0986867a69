//! The contract each arch crate fulfils: the seam the kernel is written against.
//!
//! The kernel names one type, `arch::Cpu`, that implements [`Arch`]; it never asks which CPU
//! it runs on. Each method is small and has the same meaning on every CPU.

/// How the machine should report the end of a run to whoever started it (QEMU's exit
/// status under test).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything the run meant to do succeeded.
    Success,
    /// Something failed: a test, a panic, an unexpected exception.
    Failure,
}

/// A fault taken by a probe or by user mode: the access did not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The address that faulted.
    pub address: u64,
    /// The CPU's description of the fault (exception name or class).
    pub cause: &'static str,
}

/// A stack the CPU switches to by itself for exceptions that must not trust the current one
/// (x86_64's interrupt-stack table: NMI, machine check, debug, double fault), with the
/// unmapped guard page below it that turns an overflow into a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterruptStack {
    /// What the stack serves, e.g. `double-fault`.
    pub name: &'static str,
    /// The lowest usable byte (kernel virtual address).
    pub bottom: u64,
    /// One past the highest usable byte: the initial stack pointer.
    pub top: u64,
    /// The virtual address of the guard page directly below `bottom`, which the kernel's
    /// tables must leave unmapped.
    pub guard: u64,
}

/// What every CPU port provides to the arch-neutral kernel.
pub trait Arch {
    /// A short description of the CPU and boot protocol for the boot log.
    const NAME: &'static str;

    /// The architecture's short name as used in suite closing lines (`x86_64`, `aarch64`).
    const TARGET: &'static str;

    /// Bytes at the bottom of physical memory the kernel never uses (x86: the real-mode
    /// interrupt table, BIOS data and option ROMs below 1 MiB).
    const RESERVED_LOW_MEMORY: u64;

    /// Writes raw bytes to the boot console (the serial port). Never fails, never blocks
    /// for long; safe to call from an exception handler.
    fn console_write(bytes: &[u8]);

    /// The console's receive interrupt as a wired line, from the machine description (by
    /// default its `console_interrupt`; x86_64's COM1 is ISA IRQ 4 after the MADT's
    /// overrides). `None`: no typed input.
    fn console_input_line(
        machine: &crate::machine::MachineDescription,
    ) -> Option<crate::interrupt::WiredLine> {
        machine.console_interrupt
    }

    /// Turns on the console UART's receive interrupt (data received, and on a PL011 the
    /// receive timeout). Called once, when the line is connected.
    fn console_enable_input();

    /// The next byte the console UART received, if any (reading it clears the interrupt
    /// once the receive FIFO is empty). Safe to call from the interrupt hook.
    fn console_read_byte() -> Option<u8>;

    /// Turns the machine off reporting `status`; under QEMU this exits QEMU with a status
    /// the test harness checks.
    fn power_off(status: ExitStatus) -> !;

    /// Stops this CPU for good (interrupts off, halted).
    fn halt() -> !;

    /// Raises a breakpoint exception and returns once the handler has resumed execution.
    fn breakpoint();

    /// How many breakpoint exceptions the trap handler has caught and returned from.
    fn breakpoints_caught() -> u64;

    /// The kernel virtual address at which physical address `physical` can be read.
    fn physical_to_virtual(physical: u64) -> usize;

    /// The descriptor format of this CPU's translation tables.
    type PageTableFormat: crate::paging::PageTableFormat;

    /// The memory-attribute register value the kernel programs (x86 IA32_PAT, aarch64
    /// MAIR_EL1), documented in the arch crate's `paging` module.
    const MEMORY_ATTRIBUTES: u64;

    /// The memory-attribute register's live value.
    fn memory_attributes() -> u64;

    /// Switches to the kernel's translation tables rooted at `root`. The same root serves
    /// the lower half until a process has its own (its lower-half entries are empty).
    ///
    /// # Safety
    /// `root` must map the running code, the current stack and everything the kernel touches.
    unsafe fn activate_kernel_root(root: u64);

    /// Drops any cached translation of the page at `virtual_address`.
    fn invalidate_page(virtual_address: u64);

    /// Drops every cached translation.
    fn invalidate_all();

    /// Makes instructions just written at kernel address `[address, address + length)`
    /// visible to instruction fetch (aarch64: clean the data cache to the point of
    /// unification, invalidate the instruction cache; x86_64 keeps them coherent).
    fn synchronize_code(address: usize, length: usize);

    /// The console's device registers (physical base, size), if the console is memory-mapped.
    fn console_device() -> Option<(u64, u64)>;

    /// The machine type's documented default PCI Express configuration window (ECAM) as
    /// (physical base, size) covering buses `0 .. size >> 20`: the fallback used only when no
    /// firmware table (ACPI MCFG, device tree) names one.
    fn pci_ecam() -> Option<(u64, u64)>;

    /// The machine type's documented defaults for the facts a firmware table may leave out
    /// (aarch64: QEMU `virt`'s GICv2, PL011, virtual-timer interrupt and the PSCI conduit its
    /// entry exception level implies). The kernel takes each missing fact from here, marked
    /// fallback. Empty by default: x86_64's tables (ACPI) are the only source it has.
    fn machine_defaults() -> crate::machine::MachineDescription {
        crate::machine::MachineDescription::new()
    }

    /// Hands the CPU port the machine description learned at boot, before memory and the
    /// timer are set up: where the interrupt controller and console are, which interrupt the
    /// timer raises, how PSCI is called. Nothing by default (x86_64 needs none of it yet).
    fn use_machine(machine: &crate::machine::MachineDescription) {
        let _ = machine;
    }

    /// Tells the console driver where its registers are now mapped.
    ///
    /// # Safety
    /// `virtual_address` must map [`Arch::console_device`] as device memory.
    unsafe fn set_console_address(virtual_address: usize);

    /// The virtual address of the unmapped guard page below the boot stack.
    fn boot_stack_guard() -> u64;

    /// The stacks the CPU switches to by itself for exceptions (none on CPUs that have no
    /// such mechanism). The kernel leaves each one's guard page unmapped.
    fn interrupt_stacks() -> &'static [InterruptStack] {
        &[]
    }

    /// Reads 8 bytes at `address`, catching the fault if the access is not allowed (the
    /// kernel's tests use it to prove unmapped memory really faults).
    fn probe_read(address: u64) -> Result<u64, Fault>;

    /// This CPU's index: 0 for the boot CPU, then 1, 2, … in the order the kernel started
    /// the others ([`Arch::start_cpu`]). Always 0 on a CPU port that starts no other CPU.
    fn cpu_index() -> usize {
        0
    }

    /// Starts the secondary CPU whose hardware id (x86_64: local APIC id, aarch64: MPIDR
    /// affinity) is `hardware_id`, as CPU `index`, on the kernel stack whose top is
    /// `stack_top`. It sets up its own descriptor tables or vectors, translation tables (the
    /// kernel's, rooted at `kernel_root`), interrupt controller and timer, and then calls the
    /// kernel's `kernel_secondary_main(index)` with interrupts masked. Returns whether the
    /// CPU reported itself started within the port's time limit.
    ///
    /// # Safety
    /// `stack_top` must be the top of a mapped, otherwise unused kernel stack, and `index`
    /// unique and below the kernel's CPU limit.
    unsafe fn start_cpu(index: usize, hardware_id: u64, stack_top: u64, kernel_root: u64) -> bool {
        let _ = (index, hardware_id, stack_top, kernel_root);
        false
    }

    /// The boot CPU's hardware id, in the same terms as the machine description's CPU list.
    fn boot_cpu_hardware_id() -> u64 {
        0
    }

    /// One step of a spin-wait (x86_64 `pause`, aarch64 `yield`): lets a sibling hardware
    /// thread, or an emulator running several CPUs on one host thread, run the CPU the
    /// waiter waits for.
    fn relax() {
        core::hint::spin_loop();
    }

    /// One 64-bit word from the CPU's hardware random generator (x86_64 RDRAND, aarch64
    /// RNDR), or `None` when the CPU has none or it failed its retries. The kernel only
    /// mixes it into `kernel_core::random::Pool`, never hands it out as is.
    fn hardware_random() -> Option<u64> {
        None
    }

    /// The hardware generator's name for the boot log (`rdrand`, `rndr`), if the CPU has one.
    fn hardware_random_name() -> Option<&'static str> {
        None
    }

    /// Sends the kernel's inter-processor interrupt to CPU `index`; that CPU then calls the
    /// kernel's `kernel_ipi()` hook (from user mode, or from the idle loop's wait).
    fn send_ipi(index: usize) {
        let _ = index;
    }

    /// Copies `length` bytes from `source` to `destination`, where one side is user memory
    /// that may fault (unmapped, revoked, read-only): the arch's copy routine is listed in
    /// its exception table, so a fault there returns `false` instead of being fatal. Returns
    /// whether every byte was copied.
    ///
    /// # Safety
    /// The ranges must not overlap; the kernel side must be valid for `length` bytes; the
    /// user side must lie in the user half of the active space (checked by the caller).
    #[must_use]
    unsafe fn copy_user(destination: *mut u8, source: *const u8, length: usize) -> bool;

    /// How many user copies faulted and were recovered since boot.
    fn user_copies_recovered() -> u64;

    /// The smallest data-cache line, in bytes (a power of two): the step of
    /// [`Arch::dma_sync_lines`].
    fn dma_cache_line() -> u64;

    /// Runs `plan`'s cache maintenance for `direction` by virtual address (see
    /// `crate::dma_sync`); does not wait for it ([`Arch::dma_barrier`] does). An arch whose
    /// DMA snoops the CPU's caches does nothing.
    ///
    /// # Safety
    /// Every line of `plan` must lie in pages mapped for user mode in the active space, and
    /// writable wherever the plan invalidates, for the whole call.
    unsafe fn dma_sync_lines(
        plan: &crate::dma_sync::LinePlan,
        direction: crate::dma_sync::SyncDirection,
    );

    /// Waits until every cache operation issued and every memory access made before it is
    /// complete for devices too (aarch64 `dsb sy`, x86_64 `mfence`).
    fn dma_barrier();
}
