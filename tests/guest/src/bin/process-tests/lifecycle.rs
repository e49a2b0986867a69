//! Process life cycle: exit statuses, arguments, waiting, spawn errors, and frames coming
//! back when processes end.

use alloc::format;
use process_tests::check::{expect_ending, expect_errno, expect_ok, Outcome};
use process_tests::{child, ensure, sys_memory, EXPECTED_ARGUMENTS};
use userlib::sys::error::{ECHILD, ENOENT, ENOEXEC};
use userlib::sys::{self, Ending};

const SHORT_LIVED: &str = "/bin/short-lived";

/// A child's exit status and arguments arrive intact; `waitpid` without hanging, on a
/// running child and on a process that is not a child, behaves as documented.
pub fn exit_status_and_arguments() -> Outcome {
    expect_ending(
        "short-lived",
        child::run(SHORT_LIVED, &[])?,
        Ending::Exited(0),
    )?;
    let ending = child::run(SHORT_LIVED, &["status", "42"])?;
    expect_ending("short-lived status 42", ending, Ending::Exited(42))?;
    let mut arguments = alloc::vec!["expect-args"];
    arguments.extend(EXPECTED_ARGUMENTS);
    let ending = child::run(SHORT_LIVED, &arguments)?;
    expect_ending("short-lived expect-args", ending, Ending::Exited(0))?;

    let own = expect_ok("getpid", sys::getpid())?;
    let spinner = child::start("/bin/spin", &["200"])?;
    ensure!(spinner != own, "the child got this process's id {own}");
    let early = sys::waitpid(spinner, true);
    let ending = child::wait(spinner)?;
    ensure!(
        matches!(early, Ok((0, _))),
        "waitpid(no hang) on a running child gave {early:?}, expected Ok((0, _))"
    );
    expect_ending("spin 200", ending, Ending::Exited(0))?;
    expect_errno(
        "waitpid on a reaped child",
        sys::waitpid(spinner, false),
        ECHILD,
    )?;
    expect_errno("waitpid on this process", sys::waitpid(own, false), ECHILD)
}

/// A file that is not an ELF program is `ENOEXEC`, a missing one `ENOENT`, and spawning
/// works afterwards.
pub fn bad_elf_is_a_spawn_error() -> Outcome {
    expect_errno(
        "spawn /bin/not-an-elf",
        sys::spawn("/bin/not-an-elf", &[]),
        ENOEXEC,
    )?;
    expect_errno(
        "spawn /bin/missing",
        sys::spawn("/bin/missing", &[]),
        ENOENT,
    )?;
    let ending = child::run(SHORT_LIVED, &[])?;
    expect_ending("short-lived after the failures", ending, Ending::Exited(0))
}

/// Starting and reaping 200 processes leaves the kernel's free-frame count unchanged.
pub fn two_hundred_processes_leak_no_frames() -> Outcome {
    // Warm up first, so whatever the kernel sets up once (tables, caches) is in place.
    for _ in 0..3 {
        run_short_lived(0)?;
    }
    let before = sys_memory::free_pages()?;
    for round in 1..=200 {
        run_short_lived(round)?;
    }
    let after = sys_memory::free_pages()?;
    ensure!(
        before == after,
        "free pages: {before} before 200 processes, {after} after ({} lost)",
        before as i64 - after as i64
    );
    Ok(())
}

/// Runs `short-lived` once, allocating nothing on success (so the heap stays as it was).
fn run_short_lived(round: u32) -> Outcome {
    match child::run(SHORT_LIVED, &[])? {
        Ending::Exited(0) => Ok(()),
        other => Err(format!("short-lived (round {round}) {other}")),
    }
}
