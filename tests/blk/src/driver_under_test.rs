//! Driver instances under test, for any driver of the `disk:` interface: one that dies
//! mid-I/O (`--crash-after N`), then the one the other tests use.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use disk_api::image::{read_header, DEFAULT_SIZE};
use disk_client::{wait_for_scheme, Disk};
use dma_tests::stats;
use process_tests::check::{errno_name, expect_ending, Outcome};
use process_tests::child;
use process_tests::ensure;
use userlib::sys::error::EIO;
use userlib::sys::{self, Ending};

/// How long a driver may take to register its scheme (TCG is slow).
const START_TIME: Duration = Duration::from_secs(20);

/// After how many transfers the crashing driver dies.
const CRASH_AFTER: u64 = 20;

/// The exit status of a Rust panic in a coherent program.
const PANIC_STATUS: i32 = 101;

/// A driver program and what it serves.
pub struct DriverUnderTest {
    /// Its manifest section (the rights it is started with).
    pub section: &'static str,
    /// The program.
    pub program: &'static str,
    /// The scheme it serves the `disk:` interface as.
    pub scheme: &'static str,
    /// The device whose pool it uses.
    pub device: &'static str,
    /// The process id of the instance the later tests use (0: not started).
    pub pid: AtomicUsize,
}

impl DriverUnderTest {
    /// The running instance's process id, if one was started.
    pub fn pid(&self) -> Option<usize> {
        match self.pid.load(Ordering::Relaxed) {
            0 => None,
            pid => Some(pid),
        }
    }

    /// Opens the disk at `offset`.
    ///
    /// # Errors
    ///
    /// A reason naming the path.
    pub fn open(&self, offset: u64) -> Result<Disk, String> {
        Disk::open_on(self.scheme, offset).map_err(|error| {
            format!(
                "open {}:/{offset}: {}",
                self.scheme,
                errno_name(error.errno)
            )
        })
    }

    fn wait(&self, which: &str) -> Result<u64, String> {
        wait_for_scheme(self.scheme, START_TIME).map_err(|error| {
            format!(
                "the {which} driver never served {}: ({})",
                self.scheme,
                errno_name(error.errno)
            )
        })
    }

    /// A driver dying mid-I/O (`--crash-after N`) gives every buffer back to the pool: the
    /// client sees `EIO`, the driver exit status 101, the pool returns to empty.
    pub fn dies_mid_io(&self) -> Outcome {
        let before = stats::read(self.device)?;
        ensure!(
            before.live_buffers == 0,
            "the pool has {} live buffers before any driver ran",
            before.live_buffers
        );
        self.crash(CRASH_AFTER, || {
            let running = stats::read(self.device)?;
            ensure!(
                running.live_buffers > 0,
                "the driver runs but the pool shows {running}"
            );
            Ok(())
        })?;
        stats::settle(self.device, before, "after the driver died")
    }

    /// Starts the driver with `--crash-after AFTER`, runs `while_running` once it serves
    /// its scheme, then reads until the driver dies in the middle of a transfer (the read
    /// fails with `EIO`) and waits for its panic exit. Returns the driver's process id.
    ///
    /// # Errors
    ///
    /// What went otherwise, or `while_running`'s error.
    pub fn crash(
        &self,
        after: u64,
        while_running: impl FnOnce() -> Outcome,
    ) -> Result<usize, String> {
        let count = format!("{after}");
        let pid = child::start_as(self.section, self.program, &["--crash-after", &count])?;
        self.wait("crashing")?;
        while_running()?;
        let disk = self.open(0)?;
        let mut sector = vec![0u8; 512];
        let mut served = 0;
        let failure = loop {
            match disk.read_at(0, &mut sector) {
                Ok(()) => served += 1,
                Err(error) => break error,
            }
            ensure!(
                served <= after,
                "the driver served {served} reads without dying"
            );
        };
        ensure!(
            failure.errno == EIO,
            "the read the driver died in failed with {}, expected EIO",
            errno_name(failure.errno)
        );
        drop(disk);
        expect_ending(
            "the crashing driver",
            child::wait(pid)?,
            Ending::Exited(PANIC_STATUS),
        )?;
        Ok(pid)
    }

    /// A fresh driver starts with its pool empty and serves the image: its size is 16 MiB
    /// and sector 0 is the header.
    pub fn serves_the_image(&self) -> Outcome {
        let before = stats::read(self.device)?;
        ensure!(
            before.live_buffers == 0,
            "the pool has {} live buffers before the driver ran",
            before.live_buffers
        );
        let pid = child::start_as(self.section, self.program, &[])?;
        self.pid.store(pid, Ordering::Relaxed);
        let size = self.wait("fresh")?;
        ensure!(
            size == DEFAULT_SIZE,
            "{}:/size says {size} bytes, expected {DEFAULT_SIZE}",
            self.scheme
        );
        let mut header = vec![0u8; 512];
        self.open(0)?
            .read_at(0, &mut header)
            .map_err(|error| format!("read sector 0: {}", errno_name(error.errno)))?;
        ensure!(
            read_header(&header) == Some(size),
            "sector 0 is not the header `coherent-disk v1 {size}`"
        );
        Ok(())
    }

    /// The running instance sleeps until its device interrupts: `SCHEME:/status` says
    /// `mode interrupt`, and ten reads are ten completions, each woken by an interrupt, none
    /// found by the polling fallback. MSI-X and edge lines give exactly one interrupt per
    /// completion, and so does a level line (the driver deasserts it before it
    /// acknowledges) on either GIC; up to two per completion pass here. (NVMe's INTx
    /// over-count on aarch64 was QEMU 7.2 leaving the line asserted after a reset; the NVMe
    /// driver releases it, and `nvme`'s `mixed_requests` checks 1,000 for 1,000.)
    pub fn runs_interrupt_driven(&self) -> Outcome {
        const READS: u64 = 10;
        let path = format!("{}:/status", self.scheme);
        let status = || {
            sys::read_file(&path)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| format!("cannot read {path}"))
        };
        let before = status()?;
        ensure!(
            disk_api::status::value(&before, "mode") == Some("interrupt"),
            "the driver does not run interrupt-driven:\n{before}"
        );
        let disk = self.open(0)?;
        let mut sector = vec![0u8; 512];
        for index in 1..=READS {
            disk.read_at(index * 512, &mut sector)
                .map_err(|error| format!("read sector {index}: {}", errno_name(error.errno)))?;
        }
        let after = status()?;
        let delta = |key| {
            disk_api::status::number(&after, key).unwrap_or(0)
                - disk_api::status::number(&before, key).unwrap_or(0)
        };
        let (interrupts, completions) = (delta("interrupts"), delta("completions"));
        userlib::println!(
            "{READS} reads: {completions} completions, {interrupts} interrupts, {} polled",
            delta("polled")
        );
        ensure!(
            completions >= READS
                && (completions..=2 * completions).contains(&interrupts)
                && delta("polled") == 0,
            "{READS} reads: {completions} completions, {interrupts} interrupts, {} polled:\n{after}",
            delta("polled")
        );
        Ok(())
    }
}
