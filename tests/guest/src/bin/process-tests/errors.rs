//! Bad system-call arguments get the errno the ABI names, and the caller lives on.
//!
//! These use the raw `syscallN` sequences to pass what no safe wrapper would.

use process_tests::check::{expect_errno, expect_ok, Outcome};
use process_tests::probe::{KERNEL_ADDRESS, UNMAPPED_USER_ADDRESS};
use userlib::console;
use userlib::sys::abi::{SYS_OPEN, SYS_SPAWN};
use userlib::sys::error::{EBADF, EFAULT, EINVAL, ENOSYS};
use userlib::sys::flag::{CLOCK_MONOTONIC, O_RDONLY};
use userlib::sys::{self, Stat, TimeSpec};
use userlib::syscall::number::{SYS_CLOCK_GETTIME, SYS_READ, SYS_WRITE};
use userlib::syscall::{syscall0, syscall2, syscall3, syscall4};

/// A file every test image has, to read from.
const READABLE: &str = "initfs:manifest.toml";

/// Read-only data of this program: a buffer the kernel must refuse to write into.
static READ_ONLY: [u8; 64] = [0x55; 64];

/// Pointers into the kernel, into unmapped user memory, wrapping past the end of the
/// address space, and into read-only memory are all refused with `EFAULT`.
pub fn bad_pointers_give_efault() -> Outcome {
    let console = console::descriptor();
    let text = b"never printed\n";
    let write = |pointer: usize, length: usize| {
        // SAFETY: the kernel only reads from the buffer, and must refuse this one.
        unsafe { syscall3(SYS_WRITE, console, pointer, length) }
    };
    expect_errno(
        "write from a kernel address",
        write(KERNEL_ADDRESS, 16),
        EFAULT,
    )?;
    expect_errno(
        "write from unmapped memory",
        write(UNMAPPED_USER_ADDRESS, 16),
        EFAULT,
    )?;
    expect_errno(
        "write wrapping past the top",
        write(usize::MAX - 7, 16),
        EFAULT,
    )?;
    expect_errno(
        "write of length usize::MAX",
        write(text.as_ptr() as usize, usize::MAX),
        EFAULT,
    )?;

    let file = expect_ok("open initfs:manifest.toml", sys::open(READABLE, O_RDONLY))?;
    let read = |pointer: usize, length: usize| {
        // SAFETY: the kernel must refuse both buffers; if it wrongly wrote, it would write
        // kernel memory (its own problem) or this program's read-only data, never read back.
        unsafe { syscall3(SYS_READ, file, pointer, length) }
    };
    let into_kernel = read(KERNEL_ADDRESS, 16);
    let into_read_only = read(READ_ONLY.as_ptr() as usize, READ_ONLY.len());
    let _ = sys::close(file);
    expect_errno("read into a kernel address", into_kernel, EFAULT)?;
    expect_errno("read into read-only data", into_read_only, EFAULT)?;

    // SAFETY: a null path the kernel must refuse before reading anything.
    let null_path = unsafe { syscall3(SYS_OPEN, 0, 5, O_RDONLY) };
    expect_errno("open with a null path", null_path, EFAULT)?;
    // SAFETY: a kernel path pointer the kernel must refuse.
    let kernel_path = unsafe { syscall3(SYS_OPEN, KERNEL_ADDRESS, 5, O_RDONLY) };
    expect_errno("open with a kernel path", kernel_path, EFAULT)?;
    // SAFETY: the kernel must refuse to write the time into its own memory.
    let clock = unsafe { syscall2(SYS_CLOCK_GETTIME, CLOCK_MONOTONIC, KERNEL_ADDRESS) };
    expect_errno("clock_gettime into a kernel address", clock, EFAULT)?;
    // SAFETY: a null program path the kernel must refuse before reading anything.
    let spawn = unsafe { syscall4(SYS_SPAWN, 0, 10, 0, 0) };
    expect_errno("spawn with a null path", spawn, EFAULT)?;

    // Still alive and able to write.
    expect_ok("write after the refusals", sys::write(console, b""))?;
    Ok(())
}

/// Every descriptor call on a descriptor that was never open, or was closed, is `EBADF`.
pub fn bad_descriptors_give_ebadf() -> Outcome {
    let closed = expect_ok("dup the console", sys::dup(console::descriptor()))?;
    expect_ok("close the duplicate", sys::close(closed))?;
    for fd in [999, closed, usize::MAX] {
        let mut buffer = [0u8; 8];
        let mut stat = Stat::default();
        expect_errno(
            &alloc::format!("read({fd})"),
            sys::read(fd, &mut buffer),
            EBADF,
        )?;
        expect_errno(&alloc::format!("write({fd})"), sys::write(fd, b"x"), EBADF)?;
        expect_errno(
            &alloc::format!("fstat({fd})"),
            sys::fstat(fd, &mut stat),
            EBADF,
        )?;
        expect_errno(&alloc::format!("dup({fd})"), sys::dup(fd), EBADF)?;
        expect_errno(&alloc::format!("close({fd})"), sys::close(fd), EBADF)?;
    }
    Ok(())
}

/// A number the kernel does not know is `ENOSYS`, in Redox's range and in coherent's.
pub fn unknown_syscall_gives_enosys() -> Outcome {
    // SAFETY: no arguments; the kernel must refuse the number.
    expect_errno("system call 0xBEEF", unsafe { syscall0(0xBEEF) }, ENOSYS)?;
    // SAFETY: as above; 0xC0FF is in coherent's block but unassigned.
    expect_errno("system call 0xC0FF", unsafe { syscall0(0xC0FF) }, ENOSYS)?;
    // SAFETY: as above.
    expect_errno(
        "system call usize::MAX",
        unsafe { syscall0(usize::MAX) },
        ENOSYS,
    )
}

/// Out-of-range times and unknown clocks are `EINVAL`.
pub fn bad_arguments_give_einval() -> Outcome {
    let mut remaining = TimeSpec::default();
    for (seconds, nanoseconds) in [(0, 1_000_000_000), (0, -1), (-1, 0)] {
        let request = TimeSpec {
            tv_sec: seconds,
            tv_nsec: nanoseconds,
        };
        expect_errno(
            &alloc::format!("nanosleep({seconds} s, {nanoseconds} ns)"),
            sys::nanosleep(&request, &mut remaining),
            EINVAL,
        )?;
    }
    let mut now = TimeSpec::default();
    expect_errno(
        "clock_gettime(clock 99)",
        sys::clock_gettime(99, &mut now),
        EINVAL,
    )
}
