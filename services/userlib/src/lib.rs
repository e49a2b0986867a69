//! coherent's user runtime: program entry, heap, panic, logging and system-call wrappers.
//!
//! A user program is a `#![no_std] #![no_main]` binary linked with `user.ld` (next to this
//! crate's `Cargo.toml`) at `USER_IMAGE_BASE`. It names its `main` with [`entry!`]:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! extern crate alloc;
//!
//! userlib::entry!(main);
//!
//! fn main(args: userlib::Args) -> i32 {
//!     userlib::println!("hello from {}", args.program());
//!     0
//! }
//! ```
//!
//! What a process gets before `main` runs:
//! - **Arguments** ([`Args`]): the kernel enters `_start` with, in the first argument register
//!   (`rdi` / `x0`), a pointer to a block it built on the user stack:
//!   `[argc: usize][argv: *const u8; argc][0]`, each `argv[i]` a NUL-terminated string and
//!   `argv[0]` the program's path. The stack is 16-byte aligned; nothing else is set up.
//! - **A heap** ([`heap`]): a 1 MiB arena in `.bss` handed to a buddy allocator, so `alloc`'s
//!   `Box`, `Vec` and `String` work without any system call.
//! - **Logging** ([`logger`]): the `log` macros write `[LEVEL target] message` lines to the
//!   kernel's `debug:` scheme, which prefixes each line with the process name; [`print!`] and
//!   [`println!`] write there too ([`console`]).
//! - **Panics**: with the default `panic-handler` feature, a panic writes
//!   `panicked: MESSAGE at FILE:LINE` to the console and exits with status 101.
//!
//! When `main` returns its value becomes the exit status.
//!
//! DMA buffers: [`dma::Dma`] allocates zeroed, mapped buffers from dmad (`dma:`).
//!
//! Scheme servers: [`server::serve`] is the request/reply loop on a scheme socket.
//!
//! Threads: [`thread::spawn`] runs a closure on a new thread of the process;
//! [`thread::JoinHandle::join`] waits for its status.
//!
//! Timing: [`cycles`] reads the CPU's cycle counter (TSC, or CNTVCT_EL0 scaled to a stated
//! CPU clock) without a system call.
//!
//! System calls: [`sys`] re-exports the Redox wrappers from `redox_syscall` and adds
//! coherent's own calls (`open`, `dup`, `close`, `exit`, `spawn`, `waitpid`, `getpid`,
//! `power_off`), numbered in `kernel_core::abi`; [`thread`] wraps the thread calls.
//!
//! Everything that needs the bare-metal target (`_start`, the global allocator, the panic
//! handler) is compiled only for `target_os = "none"`, so the pure parts (argument blocks,
//! argument packing, exit statuses) build and test on the host.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

mod arch;
mod args;
pub mod console;
pub mod cycles;
pub mod dma;
pub mod heap;
pub mod logger;
#[cfg(all(target_os = "none", feature = "panic-handler"))]
mod panic;
pub mod server;
pub mod start;
pub mod sys;
pub mod thread;
pub mod time;

pub use args::Args;
pub use log;
pub use syscall;
