//! The kernel's side of the user-mode contract: the hooks the arch crate calls on a system
//! call, a timer tick, a device interrupt and a user fault (see `kernel_core::user_mode`).

use crate::arch::Cpu;
use crate::memory::kernel_space;
use kernel_core::user_mode::{UserMode, UserRegisters};
use kernel_core::{CacheType, Fault};

/// Timer ticks per second: the scheduling quantum is 10 ms.
pub const TICK_HERTZ: u32 = 100;

/// A system call from user mode.
#[no_mangle]
pub fn kernel_system_call(frame: &mut <Cpu as UserMode>::UserFrame) {
    crate::test_hooks::on_system_call();
    crate::syscall::dispatch(frame);
}

/// A timer tick.
#[no_mangle]
pub fn kernel_timer_tick() {
    crate::process::tick();
    // Blocked device accesses the IOMMU recorded: logged, never fatal; bounded by the
    // hardware's few fault records, so a fault storm costs each tick a few register reads.
    crate::iommu::poll_faults();
    // Back in the interrupted process: if it was killed meanwhile, it dies before user mode.
    if crate::process::current() != crate::process::IDLE {
        crate::lifecycle::exit_if_killed();
    }
}

/// A device interrupt (the CPU port's id for it), from user mode or the idle thread.
#[no_mangle]
pub fn kernel_device_interrupt(id: u32) {
    crate::schemes::interrupt_fired(id);
}

/// A fault in user mode: the process dies, the kernel goes on.
#[no_mangle]
pub fn kernel_user_fault(frame: &mut <Cpu as UserMode>::UserFrame, fault: Fault) {
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
