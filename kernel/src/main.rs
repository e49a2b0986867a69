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
//! children, kill the processes of named sections, read the serial console (`console`:
//! the kernel's `console:` scheme, the shell's), turn the machine off (`power`) — are fixed
//! when it is spawned and never looked up by program name. init starts
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
//! target's parent and to a process whose `kills` right names the target's manifest section
//! (`Rights::may_kill`; a test image grants `kills = ["dmad"]` to one test driver), never
//! for init (`EPERM`; `ESRCH` for no such process). A `kills` right is handed on like any
//! other: a parent gives a section naming it only if it may grant that section. The target
//! dies where it would next return to user mode, holding nothing, as if it had faulted
//! (see `lifecycle`). Restarting a service is init's policy, not the kernel's.
//!
//! # Devices stop before their memory is reused
//!
//! The process that opens `device:NAME` holds device `NAME` (others get `EBUSY`) until
//! its last such handle closes or it dies. Either way the kernel then quiesces the device
//! (`devices::quiesce`): a PCI function's Bus Master Enable cleared and read back clear (no
//! function-level reset: it would wipe the BARs the kernel placed), a virtio-mmio
//! transport's `Status` written 0 and read back 0. At exit the order is:
//!
//! 1. quiesce every device the process holds, recording each attempt's generation (a
//!    kernel-wide sequence number) and whether the read-back confirmed it;
//! 2. revoke what it lent, destroy its space (`Munmap`s to servers);
//! 3. close its descriptors (`Close`s: dmad releases its buffers now).
//!
//! dmad, before returning a released buffer to its pool, unmaps it from the device's IOMMU
//! domain (`iommu:`: removed, IOTLB invalidated, waited for) and asks for the device's state
//! with `call` on its scheme socket (tag 0 + device name): if the unmap failed, or the last
//! quiesce was not confirmed, the buffer is quarantined (until a later quiesce is confirmed
//! — the next holder's open retries it and is refused with `EIO` while it fails — or, after
//! a failed unmap, for good). The full order (quiesce → unmap + invalidate + wait → pool or
//! quarantine) is written once, in dmad's crate doc ("Releasing a buffer"). `sys:quiesce` shows every held
//! device's holder, generation and last confirmed generation. Test kernels can make one
//! device's quiesce report failure (`sys:quiesce-fail/NAME`, `sys:quiesce-works/NAME`).
//!
//! # Object model
//!
//! Every open thing is a handle of one [`object::Scheme`] implementation: the kernel's
//! schemes (`debug:`, `initfs:`, `sys:`, `memory:`, `device:`, `irq:`, `iommu:`, `console:`,
//! named once in
//! `schemes::TABLE`), the scheme socket a server reads requests from, and the proxy that
//! forwards requests on user schemes to their servers. A descriptor names an
//! [`object::OpenFile`] = (scheme, handle); system calls ask the scheme and never match on
//! kinds of file, so a new kernel scheme is one new file in `schemes/` plus one line in the
//! table. Trait methods may block the caller (see `object::Scheme`): `irq:` parks readers
//! on a `process::WaitQueue` until its interrupt and acknowledges on `write`.
//! `SYS_WAIT_ANY` asks each descriptor's scheme `Scheme::ready` (by default "not waitable",
//! `EINVAL`; the scheme socket and `irq:` answer) and parks on the one
//! `process::READINESS` queue their events wake. A handle's side effects (a `Close` to a
//! server, an interrupt line masked and freed) happen in one place, `Scheme::close`, called
//! by `OpenFile::release` when the last descriptor goes — also when its holder exits. A
//! user-scheme handle belongs to the server process that opened it: once another process
//! serves that name (a restarted server), requests on it are `EBADF` and its `Close` reaches
//! nobody, so a new server never hears of its predecessor's handles (`EIO` while no one
//! serves the name).
//!
//! Errors are [`kernel_core::Error`] inside the kernel, turned into a Redox errno only by
//! `syscall::dispatch` (`Error::errno`). User memory is reached only through
//! `syscall::user_memory::UserSlice`: range arithmetic checked when it is made (user half,
//! no overflow), and the copy itself is the check — it runs through the arch's user-copy
//! routine, whose loads and stores are listed in an exception table, so a page unmapped
//! under it (by another thread, or a mapping revoked while its owner was parked) makes the
//! copy return `EFAULT` instead of faulting the kernel. No `&[u8]` into user memory is ever
//! made. A kernel-mode fault anywhere else is still fatal.
//!
//! # Threads
//!
//! A process may run up to `kernel_core::abi::MAX_THREADS` threads (`SYS_THREAD_SPAWN`,
//! `SYS_THREAD_EXIT`, `SYS_THREAD_JOIN`) sharing its space, descriptors and rights. A
//! thread is one more entry of the process table whose `group` names the process's first
//! thread, which holds what they share (see `process::thread` for the design and the
//! semantics: the last thread's exit ends the process; `exit`, a fault or a kill from any
//! thread ends all of them, and the last one to stop tears the process down once). Tids
//! come from the pid counter but are not pids: `kill`, `waitpid` and scheme servers see only
//! the process.
//!
//! # Affinity
//!
//! A thread may pin itself to a set of CPUs (`kernel_core::abi::SYS_SET_AFFINITY`, a bit mask
//! of CPU indices; `EINVAL` for an empty mask or a CPU not online). The one shared run queue
//! keeps its order: a CPU takes the oldest ready entry whose mask names it and skips the
//! rest, and the idle CPU woken for queued work is one some queued mask names (see
//! `process::scheduler`). Threads inherit their spawner's mask; new processes run anywhere.
//!
//! # Layers
//!
//! Modules import only downwards (no import circle; `use crate::` per module shows it):
//!
//! ```text
//! syscall, user_hooks, test_hooks        system calls and the arch crate's hooks
//!   lifecycle                            spawn, exit, dying when killed: tells
//!                                        servers, closes files
//!     schemes                            every Scheme implementation and the table
//!       ipc                              user-scheme queues, replies, one-way bounds
//!         process                        process table, scheduler, spaces, wait queues
//!           object, fallible             the Scheme trait, open files, descriptor
//!                                        tables, fallible allocation (import nothing)
//!       interrupts                       device interrupt lines: routing, masking, counts
//!       iommu                            the IOMMU chosen at boot (`dyn Iommu`), domains,
//!                                        faults; dmad maps buffers through `iommu:`
//!         devices                        the device table (PCI, device tree)
//!           memory                       frames, heap, kernel space, pools
//!             platform, console, arch    the machine and the one arch seam
//! ```
//!
//! Calls go upward only through `dyn Scheme` (the process table holds descriptor tables
//! but never closes a file itself; `lifecycle` does) and through the first code `lifecycle`
//! gives `process::spawn` for a new process. Killing is split the same way: `process::kill`
//! checks the right, marks the target and wakes it (its waits give up with `EINTR`);
//! `lifecycle::exit_if_killed` ends it where it holds nothing — the end of a system call
//! (`syscall::dispatch`), a timer tick from user mode (`user_hooks`), or its first code,
//! before it runs a user instruction. A target waiting for a server's reply dies once the
//! reply (or the server's death) arrives, so no answer is lost between server and client.
//!
//! # Lock order
//!
//! Every CPU runs kernel code only under the big kernel lock (`smp::BigLock`): taken on every
//! entry from user mode and by the idle loop when it wakes, dropped on every return to user
//! mode and before the idle loop waits. It is the one lock held across a context switch: the
//! thread switching out holds it and the thread switching in inherits it (see `smp`). A CPU
//! spinning for it keeps serving TLB-shootdown requests, so a holder waiting for
//! acknowledgements never deadlocks. Under it, kernel state is behind spin locks, which
//! interrupts masked in the kernel and the big lock leave uncontended, only re-entered by
//! mistake — which would hang. A path holding one lock may take only locks further down
//! this list, and no lock but the big lock is held while a process parks:
//!
//! 0. the big kernel lock (`smp`);
//! 1. the user-scheme table (`ipc::SCHEMES`), then its orphaned replies;
//! 2. one scheme's handle table (`object::Handles`; a copy to or from user memory under it
//!    takes no lock: the copy's fault recovery needs none);
//! 3. the process table (`process::PROCESSES`; address spaces live in it);
//! 4. the interrupt-line table (`interrupts`: connecting a line maps its registers; the
//!    device-interrupt hook takes it with no other lock held, since interrupts are masked
//!    in the kernel, and `irq:` wakes the line's holder only after dropping it);
//! 5. the kernel-stack slots (`process::stack`);
//! 6. the kernel's address space (`memory::kernel_space`);
//! 7. the IOMMU driver's tables (`iommu`: a domain's page tables take frames; taken with
//!    nothing above held, from `iommu:` calls, boot and `sys:iommu`);
//! 8. the frame allocator and its counts (`memory::frames`);
//! 9. leaves, which take nothing else: per-CPU flags and counters (`smp`, atomics; a TLB
//!    shootdown waits for other CPUs' acknowledgements under any of the locks above, which
//!    is safe because the acknowledging CPUs take none of them), the IOMMU fault ring, wait-queue lists, the initfs, manifest sections,
//!    the device table, published pools and machine description, the console, and last the
//!    kernel heap (every allocation takes it).
//!
//! So a descriptor refused by a full table, or a process's descriptors at exit, are
//! released after the process table's lock is dropped (a `Close` wakes a server, which takes
//! it), and the IPC layer drops the scheme table before it wakes anyone.
//!
//! # Limits
//!
//! Every table a process can grow is bounded, and refused with an errno rather than grown
//! on the kernel's heap; a request over a limit changes nothing:
//!
//! | what | limit | when full |
//! | --- | --- | --- |
//! | descriptors per process | 256 | `EMFILE` |
//! | mapped regions per process | 4096, each at most 64 MiB | `ENOMEM` |
//! | children not yet reaped per process | 64 | `EAGAIN` |
//! | threads per process (the first included, exited ones until joined) | 32 | `EAGAIN` |
//! | process numbers (never reused) | `u32::MAX` | `EAGAIN` |
//! | two-way requests pending per client | 1 (the client blocks) | — |
//! | request payload (`open` path, `write`, `call`) | 4096 bytes | `write` sends the first 4096; `call` `EINVAL` |
//! | one-way requests a live client queued at one server (`Munmap` from `funmap`) | 64 | `funmap` waits until the server reads some |
//! | one-way requests queued at one server | 1024 | `funmap` waits likewise |
//! | `Close`s, exit-time `Munmap`s, a failed `fmap`'s `Munmap` | one per descriptor or region the client held | always delivered, never refused |
//! | spawn arguments | 16 KiB | `EINVAL` |
//! | `debug:` line | 4096 bytes | the rest of the line is cut |
//! | holders of one `irq:` line | 1 | `EBUSY` |
//! | interrupts an `irq:` line delivers before its holder acknowledges | 1 (masked until the `write`) | kept pending by the device or controller |
//! | descriptors one `SYS_WAIT_ANY` waits on | 16 (`MAX_WAIT_DESCRIPTORS`) | `EINVAL` |
//! | bytes one `SYS_DMA_SYNC` covers | 64 MiB (`kernel_core::dma_sync::MAX_SYNC_LENGTH`) | `EINVAL` |
//! | kills of one process | a flag, not a queue: a second `kill` (or one of a zombie) changes nothing | — |
//!
//! One-way requests are never dropped while their server lives, since dropping one would
//! leak the server's object: those the kernel owes (`Close`, an exiting process's
//! `Munmap`s) stand for a descriptor or region the client held, so its own tables bound
//! them; a `funmap` by a live client waits for room instead (a server's unmap of its own
//! scheme's memory never waits on itself, nor does a killed client's). Only those about a
//! handle whose server is gone go nowhere: nobody holds the object any more.
//!
//! Allocations on paths a process can drive in a loop ask the heap first (`try_reserve`,
//! `fallible`): IPC payloads and queues, descriptor and handle tables, `sys:` and
//! `memory:pools` texts, paths and arguments, spawn's name, context and argument block. A dry
//! heap then answers `ENOMEM`. What stable Rust cannot make fallible — an open file's `Arc`,
//! a process's `Arc<Rights>`, `BTreeMap` nodes of the process, scheme and pending-request
//! tables — is bounded by the limits above.
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
mod fallible;
mod interrupts;
mod iommu;
mod ipc;
mod lifecycle;
mod memory;
mod object;
mod panic;
mod platform;
mod process;
mod random;
mod schemes;
mod smp;
#[cfg(feature = "test-suites")]
mod suites;
mod syscall;
mod test_hooks;
#[cfg(feature = "test-suites")]
mod testing;
mod user_hooks;

use arch::{Arch, Cpu, ExitStatus};
use kernel_core::user_mode::UserMode;
use kernel_core::BootInfo;
use log::{info, LevelFilter};

/// The kernel's entry point, called by the arch crate on the boot stack.
#[no_mangle]
pub fn kernel_main(boot: &BootInfo) -> ! {
    schemes::sys::record_boot_counter(Cpu::counter_ticks());
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
    random::stir(1);
    let layout = memory::init(&platform);
    random::stir(2);
    devices::discover(&platform);
    random::stir(3);
    iommu::discover(&platform);
    random::stir(4);
    info!("random: {}", random::source());

    // Test kernels only: self-test switches and in-kernel suites, which power off.
    test_hooks::before_init(&platform, &layout);
    start_init(&platform)
}

/// Starts the timer and init, then becomes the idle thread.
fn start_init(platform: &platform::Platform) -> ! {
    schemes::init(platform.initfs());
    ipc::load_grants(platform.manifest().as_ref());
    process::init();
    // From here on kernel code runs under the big lock (`smp`); the idle loop drops it.
    smp::BigLock::lock();
    user_hooks::start_timer();
    let limit = platform
        .command_line
        .get("cpus")
        .and_then(|value| value.parse().ok())
        .unwrap_or(smp::MAX_CPUS);
    user_hooks::start_cpus(&platform.machine, limit);
    match lifecycle::spawn("bin/init", &[b"/bin/init"], None, ipc::init_rights()) {
        Ok(id) => info!("started init as process {id}"),
        Err(error) => {
            log::error!("cannot start init (/bin/init in the initfs): {error:?}");
            Cpu::power_off(ExitStatus::Failure);
        }
    }
    process::run_idle()
}
