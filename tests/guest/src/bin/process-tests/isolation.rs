//! Isolation: a process cannot touch kernel memory, another process's memory, or write or
//! execute its own image against the segment permissions.

use alloc::boxed::Box;
use alloc::format;
use process_tests::check::{expect_ending, Outcome};
use process_tests::{child, ensure, ACCESS_WENT_THROUGH};
use userlib::sys::Ending;

const BAD_ACCESS: &str = "/bin/bad-access";

/// Runs `bad-access MODE` and expects it killed.
fn expect_killed(mode: &str) -> Outcome {
    let ending = child::run(BAD_ACCESS, &[mode])?;
    expect_ending(&format!("bad-access {mode}"), ending, Ending::Killed)
}

/// Reading or writing the kernel's linear map, or address 0, kills the process.
pub fn kernel_memory_is_not_readable() -> Outcome {
    expect_killed("kernel-read")?;
    expect_killed("kernel-write")?;
    expect_killed("null")
}

/// A child cannot see this process's memory, and faulting on an address it never mapped
/// kills it without disturbing this process.
pub fn other_process_memory_is_not_reachable() -> Outcome {
    const CANARY: u64 = 0x5EED_C0DE_1234_ABCD;
    let canary = Box::new(CANARY);
    let address = format!("{:#x}", &*canary as *const u64 as usize);
    let value = format!("{CANARY:#x}");
    let ending = child::run(BAD_ACCESS, &["read-address", &address, &value])?;
    ensure!(
        matches!(ending, Ending::Killed | Ending::Exited(0)),
        "bad-access read-address {address}: {}",
        if ending == Ending::Exited(ACCESS_WENT_THROUGH) {
            format!("the child read this process's canary ({ending})")
        } else {
            format!("expected it killed or exited with status 0, but it {ending}")
        }
    );
    expect_killed("user-unmapped")?;
    ensure!(
        **core::hint::black_box(&canary) == CANARY,
        "this process's canary changed to {:#x}",
        *canary
    );
    Ok(())
}

/// A program's text and read-only data are not writable and its data is not executable.
pub fn program_images_are_write_xor_execute() -> Outcome {
    expect_killed("write-text")?;
    expect_killed("write-rodata")?;
    expect_killed("execute-data")
}
