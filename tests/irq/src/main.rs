//! `irq-tests`: the `irq` guest suite — device interrupts delivered to driver processes,
//! with the virtio block device (on both CPUs) as the source.
//!
//! The image declares `virtio-blk` (granted `disk` and `virtio-blk0`), `irq-contender`
//! (granted `virtio-blk0` only) and `irq-reader` (nothing), none started by init; this
//! program holds no device itself. In order:
//!
//! 1. `ungranted_process_cannot_open_the_interrupt`: `EACCES` for this program and for a
//!    child without the grant;
//! 2. `dead_holder_leaves_the_line_masked`: a driver that takes an interrupt and exits
//!    without acknowledging it leaves the line masked, unheld and unacknowledged;
//! 3. `next_driver_gets_the_pending_interrupt`: the next driver receives that interrupt at
//!    once, then runs interrupt-driven, holding the line;
//! 4. `interrupt_reaches_only_the_granted_process`: a second process granted the device
//!    gets `EBUSY`, and the kernel's count of the line's interrupts moves exactly with the
//!    holder's;
//! 5. `one_interrupt_per_completion`: 1,000 reads, 1,000 completions, 1,000 interrupts in
//!    the driver and in the kernel, nothing polled;
//! 6. `waits_on_requests_and_interrupts_together`: three clients read at once; the driver
//!    takes requests while waiting for completions (`stashed` grows) and every read is right;
//! 7. `wait_any_refuses_what_it_cannot_wait_on`: `EINVAL` for no descriptors, too many, or
//!    one that is neither a scheme socket nor an `irq:` descriptor; `EBADF` for a closed one.
#![no_std]
#![no_main]

extern crate alloc;

mod lines;

use alloc::format;
use alloc::string::String;
use core::time::Duration;
use disk_api::image::pattern_mismatch;
use disk_api::status;
use disk_client::{wait_for_disk, Disk};
use process_tests::check::{errno_name, expect_ending, expect_errno, Outcome};
use process_tests::runner::Suite;
use process_tests::{child, ensure};
use userlib::sys::error::{EACCES, EBADF, EBUSY, EINVAL};
use userlib::sys::flag::O_WRONLY;
use userlib::sys::{self, Ending, Interrupt};
use userlib::Args;

userlib::entry!(main);

/// The device whose interrupt the suite uses.
const DEVICE: &str = "virtio-blk0";
/// The driver program.
const DRIVER: &str = "/bin/virtio-blk";
/// How long a driver may take to register `disk:` (TCG is slow).
const START_TIME: Duration = Duration::from_secs(20);
/// The exit status of `virtio-blk --exit-unacknowledged`.
const EXITED_UNACKNOWLEDGED: i32 = 3;
/// Requests in the counting test.
const REQUESTS: u64 = 1000;

fn main(_args: Args) -> i32 {
    let mut suite = Suite::new("irq");
    suite.run(
        "ungranted_process_cannot_open_the_interrupt",
        ungranted_process_cannot_open_the_interrupt,
    );
    suite.run(
        "dead_holder_leaves_the_line_masked",
        dead_holder_leaves_the_line_masked,
    );
    suite.run(
        "next_driver_gets_the_pending_interrupt",
        next_driver_gets_the_pending_interrupt,
    );
    suite.run(
        "interrupt_reaches_only_the_granted_process",
        interrupt_reaches_only_the_granted_process,
    );
    suite.run("one_interrupt_per_completion", one_interrupt_per_completion);
    suite.run(
        "waits_on_requests_and_interrupts_together",
        waits_on_requests_and_interrupts_together,
    );
    suite.run(
        "wait_any_refuses_what_it_cannot_wait_on",
        wait_any_refuses_what_it_cannot_wait_on,
    );
    suite.finish()
}

fn wait_any_refuses_what_it_cannot_wait_on() -> Outcome {
    let forever = None;
    expect_errno("wait_any on nothing", sys::wait_any(&[], forever), EINVAL)?;
    let console = sys::open("debug:", O_WRONLY)
        .map_err(|error| format!("open debug:: {}", errno_name(error.errno)))?;
    let many = [console; sys::abi::MAX_WAIT_DESCRIPTORS + 1];
    expect_errno(
        "wait_any on 17 descriptors",
        sys::wait_any(&many, forever),
        EINVAL,
    )?;
    expect_errno(
        "wait_any on debug:",
        sys::wait_any(&[console], forever),
        EINVAL,
    )?;
    let _ = sys::close(console);
    expect_errno(
        "wait_any on a closed descriptor",
        sys::wait_any(&[console], forever),
        EBADF,
    )
}

fn ungranted_process_cannot_open_the_interrupt() -> Outcome {
    match Interrupt::open(DEVICE) {
        Ok(_) => return Err("this ungranted program opened irq:virtio-blk0".into()),
        Err(error) => ensure!(
            error.errno == EACCES,
            "irq:{DEVICE} without the grant: {}, expected EACCES",
            errno_name(error.errno)
        ),
    }
    expect_ending(
        "irq-probe without rights",
        child::run("/bin/irq-probe", &[])?,
        Ending::Exited(EACCES),
    )
}

fn dead_holder_leaves_the_line_masked() -> Outcome {
    expect_ending(
        "virtio-blk --exit-unacknowledged",
        child::run_as("virtio-blk", DRIVER, &["--exit-unacknowledged"])?,
        Ending::Exited(EXITED_UNACKNOWLEDGED),
    )?;
    let line = lines::read(DEVICE)?;
    ensure!(
        line.holder.is_none(),
        "the dead driver still holds: {line:?}"
    );
    ensure!(
        line.masked,
        "the line is unmasked after its holder died: {line:?}"
    );
    ensure!(
        line.unacknowledged,
        "the unacknowledged interrupt was lost: {line:?}"
    );
    ensure!(line.count >= 1, "no interrupt was counted: {line:?}");
    Ok(())
}

/// The long-lived driver's pid, for the later tests.
static DRIVER_PID: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

fn next_driver_gets_the_pending_interrupt() -> Outcome {
    let pid = child::start_as("virtio-blk", DRIVER, &[])?;
    DRIVER_PID.store(pid, core::sync::atomic::Ordering::Relaxed);
    wait_for_disk(START_TIME).map_err(|error| {
        format!(
            "the driver never served disk: ({})",
            errno_name(error.errno)
        )
    })?;
    let status = driver_status()?;
    ensure!(
        status::value(&status, "mode") == Some("interrupt"),
        "the driver is not interrupt-driven:\n{status}"
    );
    ensure!(
        status::number(&status, "inherited") == Some(1),
        "the driver did not take the pending interrupt:\n{status}"
    );
    let line = lines::read(DEVICE)?;
    ensure!(
        line.holder == Some(pid) && !line.unacknowledged && !line.masked,
        "after the new driver started: {line:?} (driver is {pid})"
    );
    Ok(())
}

fn interrupt_reaches_only_the_granted_process() -> Outcome {
    expect_ending(
        "irq-probe granted virtio-blk0 while the driver holds the line",
        child::run_as("irq-contender", "/bin/irq-probe", &[])?,
        Ending::Exited(EBUSY),
    )?;
    let (before, line_before) = (driver_status()?, lines::read(DEVICE)?);
    read_sectors(1, 20)?;
    let (after, line_after) = (driver_status()?, lines::read(DEVICE)?);
    let taken = counter(&after, "interrupts")? - counter(&before, "interrupts")?;
    let fired = line_after.count - line_before.count;
    ensure!(
        taken == fired && fired >= 20,
        "the kernel counted {fired} interrupts, the driver took {taken} (20 reads)"
    );
    let pid = DRIVER_PID.load(core::sync::atomic::Ordering::Relaxed);
    ensure!(
        line_after.holder == Some(pid),
        "the line's holder is {:?}, the driver is {pid}",
        line_after.holder
    );
    Ok(())
}

fn one_interrupt_per_completion() -> Outcome {
    let (before, line_before) = (driver_status()?, lines::read(DEVICE)?);
    read_sectors(100, REQUESTS)?;
    let (after, line_after) = (driver_status()?, lines::read(DEVICE)?);
    let delta = |key| Ok::<u64, String>(counter(&after, key)? - counter(&before, key)?);
    let (interrupts, completions, polled) = (
        delta("interrupts")?,
        delta("completions")?,
        delta("polled")?,
    );
    let fired = line_after.count - line_before.count;
    ensure!(
        completions == REQUESTS && interrupts == REQUESTS && fired == REQUESTS && polled == 0,
        "{REQUESTS} reads: {completions} completions, {interrupts} interrupts taken, {fired} \
         fired in the kernel, {polled} polled"
    );
    Ok(())
}

fn waits_on_requests_and_interrupts_together() -> Outcome {
    let before = driver_status()?;
    let readers = [
        child::start("/bin/irq-reader", &["150", "2000"])?,
        child::start("/bin/irq-reader", &["150", "3000"])?,
    ];
    read_sectors(4000, 150)?;
    for reader in readers {
        expect_ending("an irq-reader", child::wait(reader)?, Ending::Exited(0))?;
    }
    let after = driver_status()?;
    let stashed = counter(&after, "stashed")? - counter(&before, "stashed")?;
    let polled = counter(&after, "polled")? - counter(&before, "polled")?;
    ensure!(
        stashed > 0 && polled == 0,
        "three clients at once: {stashed} requests taken while waiting, {polled} polled"
    );
    Ok(())
}

/// Reads sectors `first..first + count` one by one, checking the pattern.
fn read_sectors(first: u64, count: u64) -> Outcome {
    let disk = Disk::open(0).map_err(|error| format!("open disk: {}", errno_name(error.errno)))?;
    let mut sector = [0u8; 512];
    for index in first..first + count {
        disk.read_at(index * 512, &mut sector)
            .map_err(|error| format!("read sector {index}: {}", errno_name(error.errno)))?;
        if let Some(at) = pattern_mismatch(index, &sector) {
            return Err(format!(
                "sector {index} differs from the pattern at byte {at}"
            ));
        }
    }
    Ok(())
}

/// The driver's `disk:/status` text.
fn driver_status() -> Result<String, String> {
    let bytes = sys::read_file("disk:/status")
        .map_err(|error| format!("read disk:/status: {}", errno_name(error.errno)))?;
    String::from_utf8(bytes).map_err(|_| "disk:/status is not text".into())
}

fn counter(status: &str, key: &str) -> Result<u64, String> {
    status::number(status, key).ok_or_else(|| format!("disk:/status has no {key}:\n{status}"))
}
