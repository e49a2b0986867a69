//! Threads of one process (`userlib::thread`, `SYS_THREAD_*`): shared memory, join
//! statuses, how a multi-threaded process ends (`threader`), the thread limit, a thread
//! blocked in a scheme call while another runs; and user copies whose fault is recovered.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use process_tests::check::{errno_name, expect_ending, expect_errno, expect_ok, Outcome};
use process_tests::lending;
use process_tests::probe::{KERNEL_ADDRESS, UNMAPPED_USER_ADDRESS};
use process_tests::{child, ensure, sys_memory};
use userlib::sys::abi::MAX_THREADS;
use userlib::sys::error::{EAGAIN, ECHILD, EFAULT, EINVAL, ESRCH};
use userlib::sys::flag::{O_RDONLY, O_RDWR};
use userlib::sys::{self, Ending};
use userlib::{console, thread, time};

const THREADER: &str = "/bin/threader";
const LENDER: &str = "/bin/lender";
const STACK: usize = 16 * 1024;

/// Every thread writes its share of a common array and returns its own status; the joiner
/// reads every share and gets every status back, once: a second join is `ESRCH`.
pub fn threads_share_memory_and_join_returns_status() -> Outcome {
    let shared: Arc<[AtomicU64; 4]> = Arc::new(core::array::from_fn(|_| AtomicU64::new(0)));
    let mut handles = Vec::new();
    for index in 0..4u32 {
        let shared = shared.clone();
        let handle = expect_ok(
            "spawn a thread",
            thread::spawn(STACK, move || {
                shared[index as usize].store(0x1000 + u64::from(index), Ordering::SeqCst);
                100 + index
            }),
        )?;
        handles.push(handle);
    }
    let ids: Vec<usize> = handles.iter().map(thread::JoinHandle::id).collect();
    let own = expect_ok("getpid", sys::getpid())?;
    ensure!(
        ids.iter().all(|id| *id != own),
        "a thread got the process's own id {own}: {ids:?}"
    );
    for (index, handle) in handles.into_iter().enumerate() {
        let status = expect_ok("join", handle.join())?;
        ensure!(
            status == 100 + index as u32,
            "thread {index} returned {status}, expected {}",
            100 + index
        );
    }
    for (index, value) in shared.iter().enumerate() {
        let value = value.load(Ordering::SeqCst);
        ensure!(
            value == 0x1000 + index as u64,
            "thread {index}'s write is not visible to the joiner: {value:#x}"
        );
    }
    expect_errno("join an already joined thread", thread::join(ids[0]), ESRCH)?;
    expect_errno("join the process's first thread", thread::join(own), EINVAL)?;
    expect_errno("kill a thread id", sys::kill(ids[0]), ESRCH)?;
    expect_errno("waitpid on a thread id", sys::waitpid(ids[0], true), ECHILD)
}

/// The ending `threader MODE` reports, and that no thread of it is left afterwards.
fn threader(mode: &str, expected: Ending) -> Outcome {
    let pid = child::start(THREADER, &[mode])?;
    let ending = child::wait(pid)?;
    expect_ending(&format!("threader {mode}"), ending, expected)?;
    let table = expect_ok("read sys:processes", sys::read_file("sys:processes"))?;
    let table = String::from_utf8_lossy(&table);
    ensure!(
        !table.contains("threader"),
        "threads of threader {mode} are still in the table after it was reaped:\n{table}"
    );
    Ok(())
}

/// A thread's exit does not end the process, the last thread's does (with its status);
/// `exit` from one thread ends every thread, and the parent sees one exit.
pub fn last_thread_or_exit_ends_the_process() -> Outcome {
    threader("last-thread", Ending::Exited(9))?;
    threader("exit-all", Ending::Exited(7))
}

/// A fault in one thread ends every thread of the process (the others sleep, and the first
/// would exit 0 after 10 s).
pub fn fault_in_one_thread_ends_all() -> Outcome {
    let start = expect_ok("clock", time::monotonic())?;
    threader("fault", Ending::Killed)?;
    let elapsed = expect_ok("clock", time::monotonic())? - start;
    ensure!(
        elapsed < Duration::from_secs(5),
        "the faulting process took {elapsed:?} to end"
    );
    Ok(())
}

/// `kill(pid)` ends every thread: spinning ones and one blocked in a join.
pub fn kill_ends_every_thread() -> Outcome {
    let pid = child::start(THREADER, &["spin"])?;
    expect_ok("sleep", time::sleep(Duration::from_millis(30)))?;
    expect_ok("kill threader spin", sys::kill(pid))?;
    let ending = child::wait(pid)?;
    expect_ending("threader spin (killed)", ending, Ending::Killed)?;
    let table = expect_ok("read sys:processes", sys::read_file("sys:processes"))?;
    ensure!(
        !String::from_utf8_lossy(&table).contains("threader"),
        "threads of the killed threader are still in the table"
    );
    Ok(())
}

/// The process may have `MAX_THREADS` threads, its first included; one more is `EAGAIN` and
/// changes nothing: after joining them all, the free-frame count is what it was and a
/// thread starts again.
pub fn thread_limit_gives_eagain() -> Outcome {
    let before = sys_memory::free_pages()?;
    let release = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    let mut refused = None;
    for _ in 0..MAX_THREADS + 2 {
        let release = release.clone();
        match thread::spawn(STACK, move || {
            while !release.load(Ordering::SeqCst) {
                let _ = time::sleep(Duration::from_millis(2));
            }
            5
        }) {
            Ok(handle) => handles.push(handle),
            Err(error) => {
                refused = Some(error);
                break;
            }
        }
    }
    let started = handles.len();
    release.store(true, Ordering::SeqCst);
    for handle in handles {
        let status = expect_ok("join", handle.join())?;
        ensure!(status == 5, "a thread returned {status}, expected 5");
    }
    ensure!(
        started == MAX_THREADS - 1,
        "{started} threads started beside the first, expected {}",
        MAX_THREADS - 1
    );
    expect_errno::<()>(
        "one thread over the limit",
        refused.map_or(Ok(()), Err),
        EAGAIN,
    )?;
    let after = sys_memory::free_pages()?;
    ensure!(
        after == before,
        "{} frames leaked by the threads and the refused spawn",
        before as i64 - after as i64
    );
    let again = expect_ok("spawn after the limit", thread::spawn(STACK, || 3))?;
    let status = expect_ok("join", again.join())?;
    ensure!(status == 3, "the thread after the limit returned {status}");
    Ok(())
}

/// A thread spawn with an entry or stack the process could not run on — an entry in the
/// kernel half, a stack top of 0, unaligned or in the kernel half — is `EINVAL` and starts
/// nothing (the free-frame count is unchanged); joining a thread id that is not one of the
/// process's threads is `ESRCH`.
pub fn bad_thread_arguments_get_einval() -> Outcome {
    let before = sys_memory::free_pages()?;
    // Any user address will do as an entry: every case is refused before a thread runs.
    let entry = 0x20_0000usize;
    let stack = 0x4000_0000usize;
    let cases = [
        ("an entry in the kernel half", KERNEL_ADDRESS, stack),
        ("a stack top of 0", entry, 0),
        ("an unaligned stack top", entry, stack + 8),
        ("a stack top in the kernel half", entry, KERNEL_ADDRESS),
    ];
    for (what, entry, stack_top) in cases {
        // SAFETY: the kernel refuses every one of these before a thread could run.
        let result = unsafe { thread::spawn_raw(entry, stack_top, 0) };
        expect_errno(&format!("spawn with {what}"), result, EINVAL)?;
    }
    expect_errno("join of no thread", thread::join(0x7fff_fff0), ESRCH)?;
    let after = sys_memory::free_pages()?;
    ensure!(
        after == before,
        "{} frames changed hands over refused spawns",
        before as i64 - after as i64
    );
    Ok(())
}

/// A thread blocks in a scheme call (a `write` the `lender` server answers after 30 ms)
/// while the first thread runs; the server sees the process's pid as the caller, and the
/// reply wakes the thread that asked.
pub fn thread_blocks_in_a_scheme_call_while_another_runs() -> Outcome {
    let server = sys::spawn_with_rights(LENDER, &["serve"], "lender")
        .map_err(|error| format!("spawn lender serve: {}", errno_name(error.errno)))?;
    lending::wait_for_server()?;
    let file = expect_ok("open lender:page", sys::open("lender:page", O_RDWR))?;
    let checked = slow_call_in_a_thread(file);
    let stopped = expect_ok("ask the server to exit", sys::write(file, b"exit"));
    let _ = sys::close(file);
    let ending = child::wait(server)?;
    checked?;
    stopped?;
    expect_ending("lender serve", ending, Ending::Exited(0))
}

fn slow_call_in_a_thread(file: usize) -> Outcome {
    let done = Arc::new(AtomicBool::new(false));
    let answer = Arc::new(AtomicU64::new(u64::MAX));
    let (done_by_client, answer_by_client) = (done.clone(), answer.clone());
    let client = expect_ok(
        "spawn the client thread",
        thread::spawn(STACK, move || {
            let result = sys::write(file, b"caller");
            if let Ok(caller) = result {
                answer_by_client.store(caller as u64, Ordering::SeqCst);
            }
            done_by_client.store(true, Ordering::SeqCst);
            u32::from(result.is_ok())
        }),
    )?;
    // The client runs and blocks in its call; this thread keeps running meanwhile.
    let mut turns = 0u64;
    let mut done_early = false;
    let start = expect_ok("clock", time::monotonic())?;
    while expect_ok("clock", time::monotonic())? - start < Duration::from_millis(10) {
        turns += 1;
        done_early |= done.load(Ordering::SeqCst);
        let _ = sys::sched_yield();
    }
    let status = expect_ok("join the client", client.join())?;
    ensure!(turns > 0, "the first thread did not run");
    ensure!(
        !done_early,
        "the client's call returned before the server's 30 ms answer"
    );
    ensure!(status == 1, "the client's call failed");
    let own = expect_ok("getpid", sys::getpid())? as u64;
    let caller = answer.load(Ordering::SeqCst);
    ensure!(
        caller == own,
        "the server saw caller {caller}, expected the process {own}"
    );
    Ok(())
}

/// A process ends although one of its threads waits for a reply from a scheme the process
/// itself serves (`lender self-client`): that wait gives up once the process is ending.
pub fn exit_while_a_thread_waits_on_its_own_scheme() -> Outcome {
    let start = expect_ok("clock", time::monotonic())?;
    let pid = sys::spawn_with_rights(LENDER, &["self-client"], "lender")
        .map_err(|error| format!("spawn lender self-client: {}", errno_name(error.errno)))?;
    let ending = child::wait(pid)?;
    expect_ending("lender self-client", ending, Ending::Exited(5))?;
    let elapsed = expect_ok("clock", time::monotonic())? - start;
    ensure!(
        elapsed < Duration::from_secs(5),
        "the process took {elapsed:?} to end"
    );
    Ok(())
}

/// A system call given a buffer that is not mapped gets `EFAULT` from the copy's own fault
/// recovery: with the test kernel's pre-checks off (`sys:user-precheck-off`), the kernel
/// really touches the unmapped (and the read-only) page, recovers, and the count of
/// recovered user copies (`sys:user-copies`) grows.
pub fn unmapped_buffer_faults_in_the_copy_and_gives_efault() -> Outcome {
    let before = recovered_copies()?;
    expect_ok(
        "switch pre-checks off",
        sys::read_file("sys:user-precheck-off"),
    )?;
    let outcome = faulting_copies();
    expect_ok(
        "switch pre-checks on",
        sys::read_file("sys:user-precheck-on"),
    )?;
    outcome?;
    let after = recovered_copies()?;
    ensure!(
        after >= before + 2,
        "the copies' fault recovery ran {} times, expected at least 2",
        after - before
    );
    Ok(())
}

/// Read-only data: a buffer the kernel must refuse to write into.
static READ_ONLY: [u8; 64] = [0x55; 64];

fn faulting_copies() -> Outcome {
    let console = console::descriptor();
    // SAFETY: the kernel only reads from the buffer, and must refuse this one.
    let written = unsafe {
        userlib::syscall::syscall3(
            userlib::syscall::number::SYS_WRITE,
            console,
            UNMAPPED_USER_ADDRESS,
            16,
        )
    };
    expect_errno("write from unmapped memory", written, EFAULT)?;
    let file = expect_ok("open a file", sys::open("initfs:manifest.toml", O_RDONLY))?;
    // SAFETY: the kernel must refuse to write into read-only memory.
    let read = unsafe {
        userlib::syscall::syscall3(
            userlib::syscall::number::SYS_READ,
            file,
            READ_ONLY.as_ptr() as usize,
            READ_ONLY.len(),
        )
    };
    let _ = sys::close(file);
    expect_errno("read into read-only memory", read, EFAULT)?;
    ensure!(
        READ_ONLY.iter().all(|byte| *byte == 0x55),
        "read-only memory changed"
    );
    Ok(())
}

fn recovered_copies() -> Result<u64, String> {
    let text = expect_ok("read sys:user-copies", sys::read_file("sys:user-copies"))?;
    let text = String::from_utf8_lossy(&text);
    sys_memory::parse(&text, "recovered-faults")
        .ok_or_else(|| format!("no recovered-faults line in {text:?}"))
}
