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
//! manifest, brings up memory (frames, heap, its own page tables), builds the device table
//! (device tree and PCI), and then starts the timer and init, the first process, and becomes
//! the idle thread. A test kernel (feature `test-suites`) may instead run an in-kernel test
//! suite (`boot`, `memory`) or a self-test first; see `test_hooks`.
//!
//! Rights are capabilities, attached at spawn (`kernel_core::rights`). A process's rights —
//! serve these schemes, map these devices, use `memory:`, hold so many DMA pool pages (a
//! quota dmad enforces), declare or retire DMA pools, hand named manifest sections' rights to
//! children — are fixed when it is spawned and never looked up by program name. init starts
//! with the manifest's: it may give any section's rights (each child exactly its section's)
//! and may declare pools, but serves and maps nothing itself. Any other process spawns
//! children with no rights, or with a named section's rights only if it lists that section
//! in its `spawns` or already holds every one of them, with a quota no looser than its own
//! (`EPERM` otherwise; `ENOENT` for an unknown section). A scheme server learns who sent a
//! request from the kernel, never from text a process chose: each `Sqe` carries the caller's
//! pid (pids are never reused: they count up and spawning stops with `EAGAIN` when they run
//! out), and while that request is pending, a `call` on the server's scheme socket with the
//! request's tag returns the caller's rights (`Rights::to_text`). Once the request is
//! answered the kernel no longer answers for it (`ENOENT`).
//!
//! Killing is a right too: `kill(pid)` (`kernel_core::abi::SYS_KILL`) is allowed to the
//! target's parent and to a process whose `kills` right names the target's section (a test
//! image grants `kills = ["dmad"]` to one test driver), never for init; `EPERM` otherwise.
//! The target dies where it would next return to user mode, holding nothing, as if it had
//! faulted (see `process`). Restarting a service is init's policy, not the kernel's.
//!
//! Limits per process, each refused with an errno rather than growing the kernel's heap:
//! 256 descriptors (`EMFILE`), 4096 mapped regions (`ENOMEM`; one mapping is at most
//! 64 MiB), 64 children not yet reaped (`EAGAIN`). A refused descriptor is dropped only after
//! the process table's lock is released, since closing a user-scheme file takes that lock to
//! wake its server. Pending one-way requests (`Close`, `Munmap`) from one client are bounded
//! by construction by its descriptors plus its regions: each comes from one of them, and a
//! server drains its queue in order before it can answer the client's next request. They
//! are never refused, since dropping one would leak the server's object.
//!
//! Frames lent through `fmap` are counted (`memory::frames`): a frame stays allocated until
//! its last mapping in any process is gone. Pool and device memory is never counted (it is
//! never the frame allocator's; dmad defers a buffer's release until every `Munmap` for it
//! has arrived). A process that exits first revokes every mapping it lent (directly, or as
//! the first lender of memory another server re-lent), with a TLB flush, before its frames
//! and scheme names are released: so a restarted server never meets its predecessor's
//! mappings, and touching a revoked mapping kills the toucher ("mapping revoked").
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

mod arch;
mod console;
mod devices;
mod ipc;
mod memory;
mod panic;
mod platform;
mod process;
mod schemes;
#[cfg(feature = "test-suites")]
mod suites;
mod syscall;
mod test_hooks;
#[cfg(feature = "test-suites")]
mod testing;
mod user_hooks;

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
    devices::discover(&platform);

    // Test kernels only: self-test switches and in-kernel suites, which power off.
    test_hooks::before_init(&platform, &layout);
    start_init(&platform)
}

/// Starts the timer and init, then becomes the idle thread.
fn start_init(platform: &platform::Platform) -> ! {
    schemes::init(platform.initfs());
    ipc::load_grants(platform.manifest().as_ref());
    process::init();
    user_hooks::start_timer();
    match process::spawn("bin/init", &[b"/bin/init"], None, ipc::init_rights()) {
        Ok(id) => info!("started init as process {id}"),
        Err(error) => {
            log::error!("cannot start init (/bin/init in the initfs): {error:?}");
            Cpu::power_off(ExitStatus::Failure);
        }
    }
    process::run_idle()
}
