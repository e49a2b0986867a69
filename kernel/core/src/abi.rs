//! coherent's system-call numbers beyond Redox's, defined once for the kernel and `userlib`.
//!
//! The ABI is Redox's (`redox_syscall` 0.9): its numbers, flags, errno values and structures,
//! so its `userspace` wrappers (`read`, `write`, `close`, `fmap`, `funmap`, `mprotect`,
//! `fstat`, `sched_yield`, `clock_gettime`, `nanosleep`, `dup2`) work unchanged. A result is a
//! `usize`; errors come back as `-errno` (Redox's `Error::mux`/`demux`).
//!
//! What that crate lacks gets one number of ours, in a block Redox does not use (no class or
//! argument bits, above every Redox number):

/// `exit(status) -> !`: ends the calling process; its descriptors are closed.
pub const SYS_EXIT: usize = 0xC001;
/// `spawn(path, path_len, arguments, arguments_len) -> pid`: starts the initfs program at
/// `path`; `arguments` is one buffer of NUL-terminated strings (may be empty).
pub const SYS_SPAWN: usize = 0xC002;
/// `waitpid(pid, status_out, flags) -> pid`: waits for child `pid` (0 = any child) to exit
/// and stores its `ExitStatus` at `status_out` (may be null). `flags` = [`WAIT_NO_HANG`]
/// returns 0 at once if no child has exited.
pub const SYS_WAITPID: usize = 0xC003;
/// `open(path, path_len, flags) -> fd`: opens `scheme:path` (or `/scheme/NAME/path`).
pub const SYS_OPEN: usize = 0xC004;
/// `dup(fd) -> fd`: a second descriptor for the same open file.
pub const SYS_DUP: usize = 0xC005;
/// `power_off(status) -> !`: only init, only in a test image: ends the run with `status`
/// (0 = success).
pub const SYS_POWER_OFF: usize = 0xC006;
/// `getpid() -> pid`.
pub const SYS_GETPID: usize = 0xC007;

/// `waitpid` flag: do not block.
pub const WAIT_NO_HANG: usize = 1;

/// How a process ended, as `waitpid` reports it (a plain `u64`):
/// bits 0..32 the exit status, bit 32 set when the kernel killed it (a fault).
pub const EXIT_KILLED: u64 = 1 << 32;

/// Where a new process's stack ends (grows down from here); the first page below
/// `USER_STACK_TOP - USER_STACK_SIZE` is an unmapped guard.
pub const USER_STACK_TOP: u64 = 0x0000_7fff_ffff_0000;
/// Size of a new process's stack.
pub const USER_STACK_SIZE: u64 = 256 * 1024;
/// Where user programs are linked (the ELF's lowest segment may not start below).
pub const USER_IMAGE_BASE: u64 = 0x0000_0000_0040_0000;
