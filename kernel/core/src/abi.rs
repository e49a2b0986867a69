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
/// `spawn(path, path_len, arguments, arguments_len, rights) -> pid`: starts the initfs
/// program at `path`; `arguments` is one buffer of NUL-terminated strings (may be empty).
/// `rights` is 0 (the child gets no rights) or the address of a [`SpawnRights`] naming the
/// manifest section whose rights the child gets (see `crate::rights`).
pub const SYS_SPAWN: usize = 0xC002;

/// What `SYS_SPAWN`'s `rights` argument points to: the name of a manifest section.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct SpawnRights {
    /// Address of the section name's bytes (UTF-8).
    pub section_address: u64,
    /// Its length in bytes.
    pub section_length: u64,
}
/// `waitpid(pid, status_out, flags) -> pid`: waits for child `pid` (0 = any child) to exit
/// and stores its `ExitStatus` at `status_out` (may be null). `flags` = [`WAIT_NO_HANG`]
/// returns 0 at once if no child has exited.
pub const SYS_WAITPID: usize = 0xC003;
/// `open(path, path_len, flags) -> fd`: opens `scheme:path` (or `/scheme/NAME/path`).
pub const SYS_OPEN: usize = 0xC004;
/// `dup(fd) -> fd`: a second descriptor for the same open file.
pub const SYS_DUP: usize = 0xC005;
/// `power_off(status) -> !`: turns the machine off with `status` (0 = success). Allowed to a
/// process holding the `power` right (`power = true` in its manifest section: the shell's
/// `poweroff`) in any kernel, and to init in a test image (test kernels only); `EPERM`
/// otherwise.
pub const SYS_POWER_OFF: usize = 0xC006;
/// `getpid() -> pid`.
pub const SYS_GETPID: usize = 0xC007;
/// `kill(pid) -> 0`: ends process `pid` as if it had faulted (its parent's `waitpid` sees
/// [`EXIT_KILLED`]). Allowed to its parent and to a process whose `kills` right names the
/// target's manifest section (`crate::rights::Rights::may_kill`); `EPERM` otherwise and
/// always for init, `ESRCH` for no such process. The target dies the next time it would
/// return to user mode: at once if it sleeps, waits for a request or for a child; a target
/// blocked on a scheme server's reply dies when that reply (or the server's death) arrives,
/// so no answer is lost between server and client.
pub const SYS_KILL: usize = 0xC008;

/// `wait_any(descriptors, count, timeout_ns) -> position`: blocks until one of `count`
/// descriptors (an array of `usize` at `descriptors`, at most [`MAX_WAIT_DESCRIPTORS`]) is
/// ready and returns the position of the first ready one. Ready: a scheme socket with a
/// request queued (its `read` will not block), an `irq:` descriptor with an interrupt not yet
/// reported (its `read` will not block). Other descriptors are `EINVAL`, a bad one `EBADF`.
/// `timeout_ns` = [`WAIT_FOREVER`] waits without limit; otherwise `ETIMEDOUT` after that
/// many nanoseconds (0 polls). coherent's answer to "wait on requests and interrupts at
/// once", in place of an `event:` scheme (see the kernel's `interrupts` module).
pub const SYS_WAIT_ANY: usize = 0xC009;
/// `thread_spawn(entry, stack_top, argument) -> tid`: starts a new thread of the calling
/// process at `entry` with its stack pointer at `stack_top` (16-byte aligned, the caller's
/// memory) and `argument` in the first argument register. It shares the process's address
/// space, descriptors and rights; its id (a tid, drawn from the pid counter) is not a pid:
/// `kill`, `waitpid` and scheme servers know only the process. `EAGAIN` when the process
/// already has [`MAX_THREADS`] threads (running, or exited and not yet joined), `EINVAL` for
/// an entry or stack outside the user half or a misaligned stack.
pub const SYS_THREAD_SPAWN: usize = 0xC010;
/// `thread_exit(status) -> !`: ends the calling thread with `status` (32 bits, for
/// [`SYS_THREAD_JOIN`]). The last thread's exit ends the process with that status; `SYS_EXIT`
/// from any thread ends every thread and the process.
pub const SYS_THREAD_EXIT: usize = 0xC011;
/// `thread_join(tid) -> status`: waits for thread `tid` of the calling process to exit and
/// returns its status (the thread's slot is freed). `ESRCH` for no such thread of this
/// process (or one already joined), `EINVAL` for the caller itself or the process's first
/// thread, `EINTR` if the caller is killed meanwhile.
pub const SYS_THREAD_JOIN: usize = 0xC012;
/// `set_affinity(mask) -> 0`: the calling thread may from now on run only on the CPUs whose
/// bits are set in `mask` (bit N = CPU index N, as `sys:cpu` and `sys:cpus` number them); if
/// the CPU it runs on is not among them it moves before the call returns. `EINVAL` for an
/// empty mask or one naming a CPU that is not online. A hint for placement, not a right: any
/// thread may pin itself. Threads it spawns later inherit the mask; processes it spawns run
/// anywhere.
pub const SYS_SET_AFFINITY: usize = 0xC013;
/// `dma_sync(address, length, direction) -> 0`: cache maintenance for DMA on
/// `[address, address + length)` of the caller's own memory, before a device reads it
/// (`direction` 1, clean) or after a device wrote it (2, invalidate; 3 both), as Linux's
/// `dma_sync_single_for_device` / `_for_cpu`. Needed for buffers mapped write-back (a pool
/// declared `cache = "wb"`) on a device that does not snoop the CPU's caches; pages mapped
/// write-combining or uncached only get the barrier. aarch64 cleans / invalidates by address
/// (`dc cvac` / `dc ivac`, `dc civac` for lines partly outside the range) and ends with
/// `dsb sy`; x86_64, whose DMA is cache-coherent, only fences (`mfence`). `EINVAL` for an
/// unknown direction, a range that overflows or is longer than 64 MiB; `EFAULT` if a page
/// of it is not mapped for user mode (or, for 2 and 3, not writable). Rules and line
/// arithmetic: [`crate::dma_sync`].
pub const SYS_DMA_SYNC: usize = 0xC014;
/// The most threads one process may have, its first thread included, counting those exited
/// but not yet joined.
pub const MAX_THREADS: usize = 32;

/// `wait_any` timeout: no limit.
pub const WAIT_FOREVER: usize = usize::MAX;
/// The most descriptors one `wait_any` takes.
pub const MAX_WAIT_DESCRIPTORS: usize = 16;

/// `waitpid` flag: do not block.
pub const WAIT_NO_HANG: usize = 1;

/// How a process ended, as `waitpid` reports it (a plain `u64`):
/// bits 0..32 the exit status, bit 32 set when the kernel killed it (a fault).
pub const EXIT_KILLED: u64 = 1 << 32;

/// Set in `args[1]` of a one-way `Close` the kernel sends a scheme server because the
/// client *exited* (its descriptors closed by the kernel), not because it called `close`.
/// dmad reports the buffers a driver still held this way as leaks.
pub const CLOSE_AT_EXIT: u64 = 1;

/// Where a new process's stack ends (grows down from here); the first page below
/// `USER_STACK_TOP - USER_STACK_SIZE` is an unmapped guard.
pub const USER_STACK_TOP: u64 = 0x0000_7fff_ffff_0000;
/// Size of a new process's stack.
pub const USER_STACK_SIZE: u64 = 256 * 1024;
/// Where user programs are linked (the ELF's lowest segment may not start below).
pub const USER_IMAGE_BASE: u64 = 0x0000_0000_0040_0000;

/// User schemes: how a server process talks to the kernel (coherent's wire convention around
/// `redox_syscall::schemev2::{Sqe, Cqe}`).
///
/// Registering: a process whose manifest entry lists `NAME` in `schemes` opens `:NAME`
/// (`SYS_OPEN`), getting the scheme socket. Others get `EACCES`; a taken name `EEXIST`.
///
/// Serving: `read(socket, buffer)` blocks until a request arrives and returns one message:
/// an `Sqe` (`tag` = request id, `caller` = client pid) immediately followed by its payload
/// bytes (the client's path, write data or call input), `args[1]` bytes long. The buffer must
/// hold at least `size_of::<Sqe>() + SCHEME_MAX_PAYLOAD` bytes. `write(socket, message)`
/// answers: a `Cqe` (same `tag`, `result` = value or `-errno` as `u64`) followed by payload
/// bytes for `Read`/`Call` (copied into the client's buffer, at most what it asked for).
///
/// | opcode | args | the client sees |
/// | --- | --- | --- |
/// | `OpenAt` | `[0, path_len, flags]`, payload = path inside the scheme | a descriptor bound to the handle number the server returns |
/// | `Read` | `[handle, 0, capacity]` | the reply payload; result = its length |
/// | `Write` | `[handle, len]`, payload = the bytes | result |
/// | `Call` | `[handle, len, capacity]`, payload = input | reply payload copied over its buffer; result = its length |
/// | `MmapPrep` | `[handle, offset, size, prot]` | the server replies with a page-aligned address of `size` bytes in its own space; the kernel maps those frames into the client with the server mapping's memory type and no wider rights |
/// | `Munmap` | `[handle, offset, size]` | sent when the client unmaps (or exits); reply ignored |
/// | `Close` | `[handle]` | sent one-way when the client closes or exits; never answered |
///
/// A server that exits fails its pending requests with `EIO` and unregisters its name.
pub const SCHEME_MAX_PAYLOAD: usize = 4096;

/// `memory:` (kernel scheme, for the process granted the `memory` scheme in the manifest,
/// i.e. dmad): `read` of `memory:pools` gives one text line per declared DMA pool,
/// `pool NAME PHYSICAL DEVICE_BASE SIZE MAP|no-map DEVICE[,DEVICE...]` with hexadecimal
/// numbers (`0x...`); `fmap` of a descriptor for `memory:pool/NAME` maps `[offset, offset +
/// size)` of that pool into the caller, write-combining, read-write, never executable.
pub const MEMORY_SCHEME: &str = "memory";

/// `device:` (kernel scheme): a driver's window on its device's registers. Only a process
/// whose manifest entry lists the device in `devices` may open `device:NAME` (`EACCES`
/// otherwise; `ENOENT` for an unknown name). Device names: `virtio-blk0` is the first virtio
/// block device (aarch64: the device-tree node whose `coherent,device-name` says so;
/// x86_64: the first PCI function with vendor 0x1af4 and device 0x1001 or 0x1042).
///
/// `read` gives text, one fact per line: `kind virtio-mmio`, `kind virtio-pci` or `kind nvme`
/// (an NVM Express controller, PCI class 01h/08h/02h, named `nvme0` for the first);
/// `region PHYSICAL SIZE` for each register range (hexadecimal `0x...`); for PCI also
/// `pci BUS DEVICE FUNCTION` and `config PHYSICAL` (the function's 4 KiB ECAM page);
/// `interrupt N` where known. `fmap` with `Map { offset: PHYSICAL, size, .. }` maps that part
/// of one of those ranges (or the config page) as device memory, read-write, never
/// executable; any byte outside them is `EACCES`. `offset` and `size` need not be
/// page-aligned: the kernel maps the whole pages around the request and returns the address
/// of byte `offset` (so a 0x200-byte virtio-mmio window comes back at its place in its page);
/// `funmap(that address, size)` undoes it.
pub const DEVICE_SCHEME: &str = "device";

/// `irq:` (kernel scheme): a device's interrupt for its driver. Only a process whose manifest
/// entry lists the device in `devices` may open `irq:NAME` (`EACCES` otherwise, `ENOENT` for
/// an unknown name, `EBUSY` while another process holds the line, `ENODEV` if the kernel
/// cannot route it). `read` (at least 8 bytes) blocks until the device interrupts and
/// returns 8: the line's interrupt count, little-endian, once per interrupt; the line is
/// masked from then on. `write` of 8 bytes (the count read) acknowledges: the line is
/// unmasked. Closing (or exiting) masks the line and frees it; an interrupt left
/// unacknowledged is reported to the next holder's first `read`. Waitable with
/// [`SYS_WAIT_ANY`]. `sys:interrupts` lists the lines.
pub const IRQ_SCHEME: &str = "irq";

#[cfg(test)]
mod tests {
    use super::*;

    /// Two branches once gave two calls the same number; every call must have its own.
    #[test]
    fn system_call_numbers_are_distinct() {
        let numbers = [
            SYS_EXIT,
            SYS_SPAWN,
            SYS_WAITPID,
            SYS_OPEN,
            SYS_DUP,
            SYS_POWER_OFF,
            SYS_GETPID,
            SYS_KILL,
            SYS_WAIT_ANY,
            SYS_THREAD_SPAWN,
            SYS_THREAD_EXIT,
            SYS_THREAD_JOIN,
            SYS_SET_AFFINITY,
        ];
        for (index, number) in numbers.iter().enumerate() {
            assert!(
                !numbers[..index].contains(number),
                "{number:#x} is used twice"
            );
        }
    }
}
