//! The coherent microkernel.
//!
//! Principles: the kernel keeps address spaces, processes, scheduling, system calls, IPC
//! routing and the checking of user memory — and nothing else. Policy lives in servers:
//! DMA memory belongs to the user-space `dmad`, drivers are processes. The kernel panics only
//! on its own broken invariants; a bad request from anyone else gets an error and changes
//! nothing. It never names a CPU outside `arch.rs`.
//!
//! Boot order: the arch crate enters [`kernel_main`] with [`BootInfo`]; the kernel starts
//! logging, reads the platform (memory map, initrd, command line), reads the initfs and its
//! manifest, and then either runs the test suite the command line names or reports that
//! the image has nothing more to run.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

mod arch;
mod console;
mod memory;
mod panic;
mod platform;
mod suites;
mod testing;
mod user_hooks_stub;

use arch::{Arch, Cpu, ExitStatus};
use kernel_core::BootInfo;
use log::{info, LevelFilter};

/// The kernel's entry point, called by the arch crate on the boot stack.
#[no_mangle]
pub fn kernel_main(boot: &BootInfo) -> ! {
    console::init_logging(LevelFilter::Info);
    info!("coherent {} starting", env!("CARGO_PKG_VERSION"));
    info!("cpu: {}", Cpu::NAME);
    let platform = platform::Platform::discover(boot);
    if let Some(level) = platform
        .command_line
        .get("log")
        .and_then(|v| v.parse().ok())
    {
        log::set_max_level(level);
    }
    info!("command line: \"{}\"", platform.command_line.as_str());
    platform.log_memory_map();
    platform.log_initfs();
    let layout = memory::init(&platform);

    match platform.command_line.get("coherent.selftest") {
        Some("panic") => panic!("deliberate panic requested by coherent.selftest=panic"),
        Some("fault") => suites::deliberate_fault(),
        Some("probe") => {
            // The harness asks whether this accelerator can run us: take a breakpoint (some
            // nested KVM hosts cannot deliver one) and report success.
            Cpu::breakpoint();
            Cpu::power_off(ExitStatus::Success)
        }
        _ => {}
    }
    let manifest_suite = platform
        .manifest()
        .and_then(|m| m.image().ok())
        .and_then(|i| i.test_suite);
    let status = match platform
        .command_line
        .get("coherent.suite")
        .or(manifest_suite)
    {
        Some(name) => suites::run(name, &platform, &layout),
        None => {
            info!("boot complete; this image has nothing more to run, powering off");
            ExitStatus::Success
        }
    };
    Cpu::power_off(status)
}
