//! `sys:random`: fresh bytes per open, 256 at most per open, no rights needed, and a bad
//! buffer is `EFAULT` with nothing consumed.

use alloc::vec;
use alloc::vec::Vec;
use process_tests::check::{expect_errno, expect_ok, Outcome};
use process_tests::ensure;
use process_tests::probe::{KERNEL_ADDRESS, UNMAPPED_USER_ADDRESS};
use userlib::sys;
use userlib::sys::error::EFAULT;
use userlib::sys::flag::O_RDONLY;
use userlib::syscall::number::SYS_READ;
use userlib::syscall::syscall3;

const PATH: &str = "sys:random";
/// The kernel's per-open cap (`kernel::random::MAX_BYTES`).
const CAP: usize = 256;

/// Read-only data the kernel must refuse to write random bytes into.
static READ_ONLY: [u8; 32] = [0xa5; 32];

/// Opens `sys:random` and reads up to `length` bytes once.
fn read_once(length: usize) -> Result<Vec<u8>, alloc::string::String> {
    let fd = expect_ok("open sys:random", sys::open(PATH, O_RDONLY))?;
    let mut bytes = vec![0u8; length];
    let count = sys::read(fd, &mut bytes);
    let _ = sys::close(fd);
    let count = expect_ok("read sys:random", count)?;
    bytes.truncate(count);
    Ok(bytes)
}

/// Eight opens give eight different 32-byte values, none all zero; `userlib::sys::random`
/// fills a buffer longer than one open's cap.
pub fn reads_differ() -> Outcome {
    let mut values = Vec::new();
    for _ in 0..8 {
        let value = read_once(32)?;
        ensure!(value.len() == 32, "a 32-byte read gave {}", value.len());
        ensure!(value.iter().any(|b| *b != 0), "a read gave all zeroes");
        ensure!(
            !values.contains(&value),
            "two reads gave the same 32 bytes: {value:02x?}"
        );
        values.push(value);
    }
    let mut long = [0u8; 600];
    expect_ok("userlib::sys::random of 600 bytes", sys::random(&mut long))?;
    let (head, tail) = long.split_at(CAP);
    ensure!(
        !tail.starts_with(&head[..32]),
        "the second 256 bytes repeat the first"
    );
    ensure!(
        tail[CAP..].iter().any(|b| *b != 0),
        "the last 88 bytes stayed zero"
    );
    Ok(())
}

/// A 1024-byte read gets the 256 bytes one open yields, the next read 0 (end of file), and
/// `fstat` says 256.
pub fn an_over_long_read_is_capped() -> Outcome {
    let fd = expect_ok("open sys:random", sys::open(PATH, O_RDONLY))?;
    let mut bytes = [0u8; 1024];
    let first = sys::read(fd, &mut bytes);
    let second = sys::read(fd, &mut bytes[CAP..]);
    let mut stat = sys::Stat::default();
    let status = sys::fstat(fd, &mut stat);
    let _ = sys::close(fd);
    let first = expect_ok("read 1024", first)?;
    ensure!(first == CAP, "a 1024-byte read gave {first}, not {CAP}");
    let second = expect_ok("second read", second)?;
    ensure!(
        second == 0,
        "the read after the cap gave {second} more bytes"
    );
    expect_ok("fstat sys:random", status)?;
    ensure!(stat.st_size == CAP as u64, "fstat size {}", stat.st_size);
    ensure!(
        bytes[CAP..].iter().all(|b| *b == 0),
        "bytes past the cap were written"
    );
    Ok(())
}

/// Reads into kernel, unmapped and read-only memory are `EFAULT`; the read-only data is
/// unchanged and the file's 256 bytes are all still there for a good read.
pub fn a_bad_buffer_is_efault_and_consumes_nothing() -> Outcome {
    let fd = expect_ok("open sys:random", sys::open(PATH, O_RDONLY))?;
    let read = |pointer: usize, length: usize| {
        // SAFETY: the kernel must refuse every one of these buffers; if it wrongly wrote, it
        // would write kernel memory or this program's read-only data, checked below.
        unsafe { syscall3(SYS_READ, fd, pointer, length) }
    };
    let into_kernel = read(KERNEL_ADDRESS, 16);
    let into_unmapped = read(UNMAPPED_USER_ADDRESS, 16);
    let into_read_only = read(READ_ONLY.as_ptr() as usize, READ_ONLY.len());
    let mut good = [0u8; CAP];
    let after = sys::read(fd, &mut good);
    let _ = sys::close(fd);
    expect_errno("read into a kernel address", into_kernel, EFAULT)?;
    expect_errno("read into unmapped memory", into_unmapped, EFAULT)?;
    expect_errno("read into read-only data", into_read_only, EFAULT)?;
    ensure!(
        READ_ONLY.iter().all(|b| *b == 0xa5),
        "read-only data changed"
    );
    let after = expect_ok("read after the faults", after)?;
    ensure!(
        after == CAP,
        "after the faults a good read gave {after}, not {CAP}"
    );
    Ok(())
}

/// Adds these tests to the `process` suite.
pub fn register(suite: &mut process_tests::runner::Suite) {
    suite.run("sys_random_reads_differ", reads_differ);
    suite.run(
        "sys_random_over_long_read_is_capped",
        an_over_long_read_is_capped,
    );
    suite.run(
        "sys_random_bad_buffer_is_efault_and_consumes_nothing",
        a_bad_buffer_is_efault_and_consumes_nothing,
    );
}
