//! The measurements: each returns its samples in counter ticks, or why it has none.

use crate::{Problem, Samples, ITERATIONS, MINIMUM_ITERATIONS, TIME_BUDGET, WARM_UP};
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{fence, Ordering};
use core::time::Duration;
use dma_api::{AllocPath, DmaBufferInfo};
use userlib::cycles::now;
use userlib::sys::error::{Error, ENOENT};
use userlib::sys::flag::{O_RDONLY, O_RDWR};
use userlib::sys::{self, Map, MapFlags};
use userlib::syscall::number::SYS_CALL;
use userlib::time;

/// The device whose pool the buffers come from.
const DEVICE: &str = "virtio-blk0";
/// Bytes the null call sends and gets back room for.
const CALL_BYTES: usize = 8;
/// Bytes of one disk read, and how many distinct offsets the reads cycle through.
const BLOCK: usize = 4096;
const BLOCK_OFFSETS: usize = 256;

/// A failure of `what`, as a [`Problem::Fail`].
fn failed(what: &str, error: Error) -> Problem {
    Problem::Fail(format!("{what}: {error}"))
}

/// Counts rounds and says when to stop: [`ITERATIONS`] rounds, or fewer (never below
/// [`MINIMUM_ITERATIONS`]) once [`TIME_BUDGET`] has passed. The clock is asked only every
/// 256 rounds, between samples.
struct Rounds {
    done: usize,
    started: Duration,
}

impl Rounds {
    fn new() -> Self {
        Self {
            done: 0,
            started: time::monotonic().unwrap_or_default(),
        }
    }

    fn another(&mut self) -> bool {
        if self.done >= ITERATIONS {
            return false;
        }
        if self.done >= MINIMUM_ITERATIONS && self.done.is_multiple_of(256) {
            let elapsed = time::monotonic()
                .unwrap_or_default()
                .saturating_sub(self.started);
            if elapsed >= TIME_BUDGET {
                return false;
            }
        }
        self.done += 1;
        true
    }
}

/// `SYS_CALL` on `fd` with `buffer` (in and out).
fn call(fd: usize, buffer: &mut [u8]) -> sys::Result<usize> {
    // SAFETY: the kernel reads and writes at most `buffer.len()` bytes at `buffer`, which the
    // borrow keeps alive and exclusive for the call.
    unsafe { userlib::syscall::syscall3(SYS_CALL, fd, buffer.as_mut_ptr() as usize, buffer.len()) }
}

/// `null_call`: the round trip through the kernel to bench-server and back.
pub fn null_call() -> Result<Vec<Samples>, Problem> {
    let path = format!("{}:", bench_server::SCHEME);
    let fd = sys::open(&path, O_RDWR).map_err(|error| failed(&format!("open {path}"), error))?;
    let mut buffer = [0u8; CALL_BYTES];
    for _ in 0..WARM_UP {
        call(fd, &mut buffer).map_err(|error| failed("call", error))?;
    }
    let mut samples = Vec::with_capacity(ITERATIONS);
    let mut rounds = Rounds::new();
    while rounds.another() {
        let start = now();
        let result = call(fd, &mut buffer);
        let end = now();
        result.map_err(|error| failed("call", error))?;
        samples.push(end.wrapping_sub(start));
    }
    let _ = sys::close(fd);
    Ok(vec![("null_call", samples)])
}

/// One allocated, mapped buffer: (descriptor, address).
fn allocate(path: &str, size: usize) -> sys::Result<(usize, usize)> {
    let fd = sys::open(path, O_RDWR)?;
    let mut descriptor = [0u8; DmaBufferInfo::SIZE];
    let mapped = sys::read(fd, &mut descriptor).and_then(|_| {
        let map = Map {
            offset: 0,
            size,
            flags: MapFlags::PROT_READ | MapFlags::PROT_WRITE | MapFlags::MAP_SHARED,
            address: 0,
        };
        // SAFETY: a fresh mapping (address 0): the kernel picks where, so nothing this
        // program uses is replaced.
        unsafe { sys::fmap(fd, &map) }
    });
    match mapped {
        Ok(address) => Ok((fd, address)),
        Err(error) => {
            let _ = sys::close(fd);
            Err(error)
        }
    }
}

/// Unmaps and closes a buffer from [`allocate`].
fn release(fd: usize, address: usize, size: usize) -> sys::Result<()> {
    // SAFETY: `address` is this buffer's mapping of `size` bytes; nothing refers into it.
    unsafe { sys::funmap(address, size) }?;
    sys::close(fd)?;
    Ok(())
}

/// Allocation (open + descriptor + fmap) and release (funmap + close) of `size` bytes,
/// sampled separately in each round.
fn alloc_free(size: usize, names: (&'static str, &'static str)) -> Result<Vec<Samples>, Problem> {
    let path = format!(
        "{}",
        AllocPath {
            device: DEVICE,
            size: size as u64,
            align: None,
            mask: None,
            boundary: None,
        }
    );
    for _ in 0..WARM_UP {
        let (fd, address) = allocate(&path, size).map_err(|error| failed(&path, error))?;
        release(fd, address, size).map_err(|error| failed("release", error))?;
    }
    let (mut allocations, mut releases) = (Vec::new(), Vec::new());
    let mut rounds = Rounds::new();
    while rounds.another() {
        let start = now();
        let allocated = allocate(&path, size);
        let middle = now();
        let (fd, address) = allocated.map_err(|error| failed(&path, error))?;
        let released = release(fd, address, size);
        let end = now();
        released.map_err(|error| failed("release", error))?;
        allocations.push(middle.wrapping_sub(start));
        releases.push(end.wrapping_sub(middle));
    }
    Ok(vec![(names.0, allocations), (names.1, releases)])
}

/// `alloc_4k` and `free_4k`.
pub fn alloc_free_4k() -> Result<Vec<Samples>, Problem> {
    alloc_free(4096, ("alloc_4k", "free_4k"))
}

/// `alloc_1m` and `free_1m`.
pub fn alloc_free_1m() -> Result<Vec<Samples>, Problem> {
    alloc_free(1 << 20, ("alloc_1m", "free_1m"))
}

/// `zero_4k`: zeroing one mapped 4 KiB write-combining buffer, fence included.
pub fn zero_4k() -> Result<Vec<Samples>, Problem> {
    const SIZE: usize = 4096;
    let path = format!(
        "{}",
        AllocPath {
            device: DEVICE,
            size: SIZE as u64,
            align: None,
            mask: None,
            boundary: None,
        }
    );
    let (fd, address) = allocate(&path, SIZE).map_err(|error| failed(&path, error))?;
    let zero = || {
        // SAFETY: `address` is a live read-write mapping of `SIZE` bytes that only this
        // program uses and nothing borrows.
        unsafe { core::ptr::write_bytes(address as *mut u8, 0, SIZE) };
        // Drain the write-combining buffers: the stores are done when this returns.
        fence(Ordering::SeqCst);
    };
    for _ in 0..WARM_UP {
        zero();
    }
    let mut samples = Vec::with_capacity(ITERATIONS);
    let mut rounds = Rounds::new();
    while rounds.another() {
        let start = now();
        zero();
        samples.push(now().wrapping_sub(start));
    }
    release(fd, address, SIZE).map_err(|error| failed("release", error))?;
    Ok(vec![("zero_4k", samples)])
}

/// `blk_read_4k`: one 4 KiB read from `disk:` (virtio-blk), at offsets cycling through the
/// first MiB.
pub fn blk_read_4k() -> Result<Vec<Samples>, Problem> {
    disk_read_4k("disk", "blk_read_4k", "virtio-blk")
}

/// `nvme_read_4k`: the same on `nvme:` (the NVMe driver: one NVMe read command, PRP1 only).
pub fn nvme_read_4k() -> Result<Vec<Samples>, Problem> {
    disk_read_4k("nvme", "nvme_read_4k", "nvme")
}

/// One 4 KiB read on a `SCHEME:/OFFSET` handle of the `disk:` interface, as `name`; skipped
/// when no `driver` serves `scheme`.
fn disk_read_4k(scheme: &str, name: &'static str, driver: &str) -> Result<Vec<Samples>, Problem> {
    let first = format!("{scheme}:/0");
    match sys::open(&first, O_RDONLY) {
        Ok(fd) => {
            let _ = sys::close(fd);
        }
        Err(error) if error.errno == ENOENT => {
            return Err(Problem::Skip(format!(
                "no {scheme}: scheme in this image (no {driver} driver)"
            )))
        }
        Err(error) => return Err(failed(&first, error)),
    }
    let mut block = vec![0u8; BLOCK];
    let mut read_at = |round: usize| -> Result<u64, Problem> {
        let path = format!("{scheme}:/{}", (round % BLOCK_OFFSETS) * BLOCK);
        let fd = sys::open(&path, O_RDONLY).map_err(|error| failed(&path, error))?;
        let start = now();
        let result = sys::read(fd, &mut block);
        let end = now();
        let _ = sys::close(fd);
        match result {
            Ok(BLOCK) => Ok(end.wrapping_sub(start)),
            Ok(count) => Err(Problem::Fail(format!(
                "{path}: read {count} bytes, not {BLOCK}"
            ))),
            Err(error) => Err(failed(&path, error)),
        }
    };
    for round in 0..WARM_UP {
        read_at(round)?;
    }
    let mut samples = Vec::with_capacity(ITERATIONS);
    let mut rounds = Rounds::new();
    while rounds.another() {
        samples.push(read_at(rounds.done)?);
    }
    Ok(vec![(name, samples)])
}

/// Iterations of the calibration loop: two instructions each.
pub const CALIBRATION_ITERATIONS: u64 = 50_000;
/// Samples of the calibration loop.
const CALIBRATION_SAMPLES: usize = 101;

/// The calibration: counter ticks (median of [`CALIBRATION_SAMPLES`]) for a loop of a
/// known instruction count, returned as `(instructions, median ticks)`. Under QEMU's
/// `-icount` the ratio is the counter's instructions per tick, which the host checks
/// against the one it assumes; elsewhere it says how fast the CPU runs a tight loop.
pub fn calibrate() -> (u64, u64) {
    userlib::cycles::spin_instructions(CALIBRATION_ITERATIONS);
    let mut samples: Vec<u64> = (0..CALIBRATION_SAMPLES)
        .map(|_| {
            let start = now();
            userlib::cycles::spin_instructions(CALIBRATION_ITERATIONS);
            now().wrapping_sub(start)
        })
        .collect();
    samples.sort_unstable();
    (2 * CALIBRATION_ITERATIONS, samples[samples.len() / 2])
}

/// QEMU's `edu` device as an interrupt source: BAR0 register 0x24 interrupt status, 0x60
/// raise (status |= value, then the interrupt), 0x64 acknowledge (status &= !value); 32-bit
/// accesses.
const EDU: &str = "edu0";
const EDU_STATUS: usize = 0x24;
const EDU_RAISE: usize = 0x60;
const EDU_ACKNOWLEDGE: usize = 0x64;

/// Maps `device:edu0`'s first region (BAR0); `None` when the image has no edu.
fn map_edu() -> Result<Option<*mut u32>, Problem> {
    let fd = match sys::open("device:edu0", O_RDWR) {
        Ok(fd) => fd,
        Err(error) if error.errno == ENOENT => return Ok(None),
        Err(error) => return Err(failed("open device:edu0", error)),
    };
    let text = sys::read_to_end(fd).map_err(|error| failed("read device:edu0", error))?;
    let text = alloc::string::String::from_utf8_lossy(&text).into_owned();
    let base = text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("region"), Some(base)) => {
                u64::from_str_radix(base.trim_start_matches("0x"), 16).ok()
            }
            _ => None,
        }
    });
    let Some(base) = base else {
        return Err(Problem::Fail(format!("device:edu0 says {text:?}")));
    };
    let map = Map {
        offset: base as usize,
        size: 4096,
        flags: MapFlags::PROT_READ | MapFlags::PROT_WRITE | MapFlags::MAP_SHARED,
        address: 0,
    };
    // SAFETY: a fresh mapping (address 0) of the device's own registers.
    let registers = unsafe { sys::fmap(fd, &map) }.map_err(|error| failed("fmap edu0", error))?;
    Ok(Some(registers as *mut u32))
}

/// `irq_latency`: from just before the write that makes `edu` raise its interrupt to the
/// return of the blocking `irq:edu0` read (the kernel's handler, masking, waking the
/// driver, the switch back). The device's status is acknowledged and the line re-armed
/// outside the sample. Every round must see the line's count go up by exactly one.
pub fn irq_latency() -> Result<Vec<Samples>, Problem> {
    let Some(registers) = map_edu()? else {
        return Err(Problem::Skip(format!(
            "no {EDU} device in this machine (QEMU -device edu)"
        )));
    };
    // SAFETY: `registers` maps edu's first 4 KiB of BAR0; the offsets are its 32-bit
    // interrupt registers.
    let write =
        |offset: usize, value: u32| unsafe { registers.add(offset / 4).write_volatile(value) };
    // SAFETY: as in `write`.
    let read = |offset: usize| unsafe { registers.add(offset / 4).read_volatile() };
    let interrupt =
        sys::Interrupt::open(EDU).map_err(|error| failed(&format!("irq:{EDU}"), error))?;
    let mut last = None;
    let mut round = || -> Result<u64, Problem> {
        let start = now();
        write(EDU_RAISE, 1);
        let count = interrupt.wait();
        let end = now();
        let count = count.map_err(|error| failed(&format!("read irq:{EDU}"), error))?;
        let status = read(EDU_STATUS);
        write(EDU_ACKNOWLEDGE, status);
        interrupt
            .acknowledge(count)
            .map_err(|error| failed(&format!("acknowledge irq:{EDU}"), error))?;
        if status & 1 == 0 {
            return Err(Problem::Fail(format!(
                "woken with edu's interrupt status {status:#x}"
            )));
        }
        if let Some(previous) = last {
            if count != previous + 1 {
                return Err(Problem::Fail(format!(
                    "interrupt count went from {previous} to {count} for one raise"
                )));
            }
        }
        last = Some(count);
        Ok(end.wrapping_sub(start))
    };
    for _ in 0..WARM_UP {
        round()?;
    }
    let mut samples = Vec::with_capacity(ITERATIONS);
    let mut rounds = Rounds::new();
    while rounds.another() {
        samples.push(round()?);
    }
    // How the kernel connected the line (`msi`, `wired-level`, ...), for the reader.
    if let Ok(fd) = sys::open("sys:interrupts", O_RDONLY) {
        if let Ok(table) = sys::read_to_end(fd) {
            let table = alloc::string::String::from_utf8_lossy(&table).into_owned();
            if let Some(line) = table.lines().find(|line| line.starts_with(EDU)) {
                userlib::println!("bench-note irq_latency {line}");
            }
        }
        let _ = sys::close(fd);
    }
    Ok(vec![("irq_latency", samples)])
}

/// The text of kernel file `path` (a `sys:` file), at most 4 KiB.
fn read_text(path: &str) -> Result<alloc::string::String, Problem> {
    let fd = sys::open(path, O_RDONLY).map_err(|error| failed(&format!("open {path}"), error))?;
    let mut buffer = vec![0u8; 4096];
    let read = sys::read(fd, &mut buffer);
    let _ = sys::close(fd);
    let length = read.map_err(|error| failed(&format!("read {path}"), error))?;
    buffer.truncate(length);
    alloc::string::String::from_utf8(buffer)
        .map_err(|_| Problem::Fail(format!("{path} is not text")))
}

/// How many CPUs run: the rows of `sys:cpus` after its header.
fn online_cpus() -> Result<usize, Problem> {
    let text = read_text("sys:cpus")?;
    Ok(text
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .count())
}

/// The CPU this thread runs on now (`sys:cpu`: `cpu N`).
fn current_cpu() -> Result<usize, Problem> {
    let text = read_text("sys:cpu")?;
    text.trim()
        .strip_prefix("cpu ")
        .and_then(|number| number.parse().ok())
        .ok_or_else(|| Problem::Fail(format!("sys:cpu says {text:?}")))
}

/// Pins this thread to the CPUs in `mask`.
fn pin(mask: u64) -> Result<(), Problem> {
    userlib::thread::set_affinity(mask).map_err(|error| failed("set_affinity", error))
}

/// Every online CPU's bit.
fn all_cpus(count: usize) -> u64 {
    if count >= 64 {
        u64::MAX
    } else {
        (1 << count) - 1
    }
}

/// `null_call_cross_cpu`: the null call with this thread pinned to CPU 0 and bench-server
/// pinned to CPU 1 (it pins itself when opened as `bench:pin/1`), so every round trip
/// crosses CPUs (an IPI wakes the other side each way). Skipped on one CPU.
pub fn null_call_cross_cpu() -> Result<Vec<Samples>, Problem> {
    let cpus = online_cpus()?;
    if cpus < 2 {
        return Err(Problem::Skip(format!("{cpus} CPU online")));
    }
    pin(1)?;
    let outcome = (|| {
        let path = format!("{}:pin/1", bench_server::SCHEME);
        let fd =
            sys::open(&path, O_RDWR).map_err(|error| failed(&format!("open {path}"), error))?;
        let mut buffer = [0u8; CALL_BYTES];
        for _ in 0..WARM_UP {
            call(fd, &mut buffer).map_err(|error| failed("call", error))?;
        }
        let mut samples = Vec::with_capacity(ITERATIONS);
        let mut rounds = Rounds::new();
        while rounds.another() {
            let start = now();
            let result = call(fd, &mut buffer);
            let end = now();
            result.map_err(|error| failed("call", error))?;
            samples.push(end.wrapping_sub(start));
        }
        let _ = sys::close(fd);
        let cpu = current_cpu()?;
        if cpu != 0 {
            return Err(Problem::Fail(format!("pinned to CPU 0, ran on {cpu}")));
        }
        Ok(vec![("null_call_cross_cpu", samples)])
    })();
    pin(all_cpus(cpus))?;
    outcome
}

/// Set when the shootdown's spinning threads should return.
static STOP_SPINNING: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
/// How many spinning threads are pinned and spinning.
static SPINNING: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Samples of `shootdown`: fewer than the others, each one maps, writes and unmaps a page.
const SHOOTDOWN_ROUNDS: usize = 1000;

/// `shootdown`: this thread on CPU 0, one thread of this process spinning in user mode on
/// every other CPU (so the address space is active there); each sample is the `funmap` of
/// one anonymous page this thread mapped and wrote, which must shoot the other CPUs' TLBs
/// down and wait for their acknowledgements. Skipped on one CPU.
///
/// The spinners and the kernel's wait for acknowledgements spin with the CPU's spin hint
/// (`pause` / `yield`), which under QEMU's round-robin TCG (every CPU on one host thread, as
/// with `-icount`) ends that CPU's turn, so the other runs at once. Under `-icount` the
/// counter follows every CPU's instructions, so a sample is the unmapping CPU's `funmap`
/// plus what the other CPUs ran meanwhile: taking the IPI, flushing, acknowledging (and a
/// few instructions of spinning each turn).
pub fn shootdown() -> Result<Vec<Samples>, Problem> {
    let cpus = online_cpus()?;
    if cpus < 2 {
        return Err(Problem::Skip(format!("{cpus} CPU online")));
    }
    pin(1)?;
    STOP_SPINNING.store(false, Ordering::SeqCst);
    SPINNING.store(0, Ordering::SeqCst);
    let mut threads = Vec::new();
    let mut outcome = Ok(());
    for cpu in 1..cpus {
        let spawned = userlib::thread::spawn(0, move || {
            if userlib::thread::set_affinity(1 << cpu).is_err() {
                SPINNING.fetch_add(1, Ordering::SeqCst);
                return 1;
            }
            SPINNING.fetch_add(1, Ordering::SeqCst);
            while !STOP_SPINNING.load(Ordering::Relaxed) {
                // `pause` / `yield`: under `-icount` QEMU runs the CPUs in turn, and this
                // ends the spinner's turn, so the CPU it waits for runs at once.
                userlib::thread::spin_hint();
            }
            0
        });
        match spawned {
            Ok(handle) => threads.push(handle),
            Err(error) => {
                outcome = Err(failed("thread spawn", error));
                break;
            }
        }
    }
    let measured = outcome.and_then(|()| {
        // Each new thread starts on this CPU (it inherits the pin) and must run once to move
        // itself, so yield now and then; otherwise wait in user mode, without the big
        // kernel lock. Under `-icount` QEMU runs the CPUs in turn and a turn ends only at a
        // spin hint or a time slice: a waiter looping on `sched_yield` would hold the lock
        // at nearly every turn's end and starve a spinner that needs it.
        let mut waited = 0u32;
        while SPINNING.load(Ordering::SeqCst) < cpus - 1 {
            if waited.is_multiple_of(1024) {
                let _ = sys::sched_yield();
            }
            waited = waited.wrapping_add(1);
            userlib::thread::spin_hint();
        }
        let map = Map {
            offset: 0,
            size: 4096,
            flags: MapFlags::PROT_READ | MapFlags::PROT_WRITE | MapFlags::MAP_PRIVATE,
            address: 0,
        };
        let mut samples = Vec::with_capacity(SHOOTDOWN_ROUNDS);
        let mut round = 0;
        while round < WARM_UP + SHOOTDOWN_ROUNDS {
            // SAFETY: anonymous memory (descriptor `usize::MAX`); the kernel picks the address.
            let address =
                unsafe { sys::fmap(usize::MAX, &map) }.map_err(|error| failed("fmap", error))?;
            // SAFETY: the page was just mapped read-write for this program alone.
            unsafe { (address as *mut u64).write_volatile(round as u64) };
            let start = now();
            // SAFETY: the page is this function's and nothing refers into it any more.
            let result = unsafe { sys::funmap(address, 4096) };
            let end = now();
            result.map_err(|error| failed("funmap", error))?;
            if round >= WARM_UP {
                samples.push(end.wrapping_sub(start));
            }
            round += 1;
        }
        Ok(vec![("shootdown", samples)])
    });
    STOP_SPINNING.store(true, Ordering::SeqCst);
    let mut failures = 0;
    for thread in threads {
        if !matches!(thread.join(), Ok(0)) {
            failures += 1;
        }
    }
    pin(all_cpus(cpus))?;
    if failures > 0 {
        return Err(Problem::Fail(format!("{failures} spinning threads failed")));
    }
    measured
}

/// `boot`: one sample, from the counter at kernel entry (`sys:boot`) to dmad's answer to
/// this program's first `dma:` request, made as the first thing it does. An upper bound on
/// "kernel entry to dmad serving" (it also covers starting the services init starts before
/// dmabench, and dmabench's own start).
pub fn boot() -> Result<Vec<Samples>, Problem> {
    // dmad may not have registered `dma:` yet: retry (for at most 30 s) until it has.
    let started = time::monotonic().unwrap_or_default();
    let fd = loop {
        match sys::open("dma:/", O_RDONLY) {
            Ok(fd) => break fd,
            Err(error)
                if error.errno == ENOENT
                    && time::monotonic()
                        .unwrap_or_default()
                        .saturating_sub(started)
                        < Duration::from_secs(30) =>
            {
                let _ = sys::sched_yield();
            }
            Err(error) => return Err(failed("open dma:/", error)),
        }
    };
    let mut buffer = [0u8; 64];
    let answered = sys::read(fd, &mut buffer);
    let end = now();
    let _ = sys::close(fd);
    answered.map_err(|error| failed("read dma:/", error))?;
    let text = read_text("sys:boot")?;
    let entry: u64 = text
        .trim()
        .strip_prefix("entry-counter ")
        .and_then(|number| number.parse().ok())
        .ok_or_else(|| Problem::Fail(format!("sys:boot says {text:?}")))?;
    if entry == 0 || entry > end {
        return Err(Problem::Fail(format!(
            "entry counter {entry} not before now {end}"
        )));
    }
    Ok(vec![("boot", vec![end - entry])])
}
