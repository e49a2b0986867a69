//! The kernel's side of the user-mode contract: the hooks the arch crate calls on a system
//! call, a timer tick, a device interrupt, an inter-processor interrupt and a user fault
//! (see `kernel_core::user_mode`), and a secondary CPU's first kernel code.
//!
//! Each hook takes the big kernel lock (`crate::smp`) first and drops it last — also when it
//! is called from the idle loop's wait, which runs without it. A hook that switches threads
//! hands the lock on; the thread that comes back here holds it again.

use crate::arch::{Arch, Cpu};
use crate::memory::kernel_space;
use crate::smp::{self, BigLock};
use kernel_core::user_mode::{UserMode, UserRegisters};
use kernel_core::{CacheType, Fault};

/// Timer ticks per second: the scheduling quantum is 10 ms.
pub const TICK_HERTZ: u32 = 100;

/// A system call from user mode.
#[no_mangle]
pub fn kernel_system_call(frame: &mut <Cpu as UserMode>::UserFrame) {
    BigLock::lock();
    smp::count_user_entry();
    crate::test_hooks::on_system_call();
    crate::syscall::dispatch(frame);
    BigLock::unlock();
}

/// A timer tick.
#[no_mangle]
pub fn kernel_timer_tick() {
    BigLock::lock();
    smp::count_tick();
    crate::random::note_tick();
    crate::process::tick();
    // Blocked device accesses the IOMMU recorded: logged, never fatal; bounded by the
    // hardware's few fault records, so a fault storm costs each tick a few register reads.
    crate::iommu::poll_faults();
    // Back in the interrupted process: if it was killed meanwhile, it dies before user mode.
    if crate::process::current() != crate::process::IDLE {
        crate::lifecycle::exit_if_killed();
    }
    BigLock::unlock();
}

/// An inter-processor interrupt: a TLB shootdown to serve (which needs no lock), or a
/// wake-up of this CPU's idle loop, which then takes the lock and looks for work.
#[no_mangle]
pub fn kernel_ipi() {
    smp::on_ipi();
}

/// A secondary CPU's first kernel code, on its own stack, interrupts masked: it reports for
/// work and becomes that CPU's idle thread.
#[no_mangle]
pub fn kernel_secondary_main(index: usize) -> ! {
    smp::mark_online(index, 0);
    BigLock::lock();
    crate::smp::set_active_root(kernel_space::root());
    crate::process::run_idle()
}

/// A device interrupt (the CPU port's id for it), from user mode or the idle thread.
#[no_mangle]
pub fn kernel_device_interrupt(id: u32) {
    BigLock::lock();
    crate::schemes::interrupt_fired(id);
    BigLock::unlock();
}

/// A fault in user mode: the process dies, the kernel goes on.
#[no_mangle]
pub fn kernel_user_fault(frame: &mut <Cpu as UserMode>::UserFrame, fault: Fault) {
    BigLock::lock();
    smp::count_user_entry();
    crate::lifecycle::kill_current(fault, frame.instruction_pointer());
}

/// Starts the scheduling tick, mapping the timer's registers into the device window.
///
/// # Panics
/// If the registers cannot be mapped: the kernel cannot schedule without a timer.
pub fn start_timer() {
    let mut map = |physical: u64, size: u64| {
        kernel_space::map_device(physical, size, CacheType::Device)
            .expect("cannot map the timer's registers")
    };
    Cpu::start_timer(TICK_HERTZ, &mut map);
}

/// Starts every CPU the machine description lists besides the boot CPU (at most
/// `smp::MAX_CPUS` in all, fewer when the command line says `cpus=N`), each on an idle stack
/// of its own, and logs which came up. Called with the big lock held, before init starts.
pub fn start_cpus(machine: &kernel_core::machine::MachineDescription, limit: usize) {
    let boot = Cpu::boot_cpu_hardware_id();
    smp::mark_online(0, boot);
    let mut next = 1;
    for hardware_id in machine.cpus().filter(|&id| id != boot) {
        if next >= limit.min(smp::MAX_CPUS) {
            log::info!("cpu: leaving cpu {hardware_id:#x} stopped (limit {limit})");
            continue;
        }
        let Some(stack_top) = crate::process::idle_stack() else {
            log::warn!("cpu: no memory for cpu {hardware_id:#x}'s stack");
            break;
        };
        // SAFETY: a fresh stack, an unused index below the limit.
        let started = unsafe { Cpu::start_cpu(next, hardware_id, stack_top, kernel_space::root()) };
        // The CPU reports itself started just before it enters the kernel, which marks it
        // online first thing: a bounded spin (the clock may not run with interrupts masked).
        let mut spins: u64 = 0;
        while started && smp::online() <= next && spins < 100_000_000 {
            core::hint::spin_loop();
            spins += 1;
        }
        if smp::online() > next {
            smp::mark_online(next, hardware_id);
            log::info!("cpu {next} up (hardware id {hardware_id:#x})");
            next += 1;
        } else {
            log::warn!("cpu {hardware_id:#x} did not start");
        }
    }
    log::info!("cpus: {} running", smp::online());
}
