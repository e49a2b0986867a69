//! dmad killed while clients hold its buffers, and restarted by init.
//!
//! The driver holds buffers (one mapped and written, one only open), and a text handle, and
//! while another client (`hostile-attacker through-restart`, no rights) asks dmad for its
//! table in a loop, kills dmad with the `kills = ["dmad"]` right its manifest section grants (nobody else in
//! the image has it; `hostile-attacker kill` checks that the attacker gets `EPERM`). Then:
//! - init restarts dmad: `dma:` is served again, by a new pid;
//! - the looping client saw only clean refusals (`EIO`, `ENOENT`, then `EBADF` for its old
//!   handle), never hung, and was answered by the new dmad;
//! - the mapping the dead dmad lent is gone from the driver's page tables (the kernel
//!   revoked it; no stale mapping of pool memory survives), and `funmap` of it is `EINVAL`;
//! - every old descriptor gets `EBADF` from the kernel for `read` and `fmap` — a handle
//!   belongs to the dmad that opened it, so the new dmad is never asked (the `process`
//!   suite's `stale_handle_never_reaches_a_new_server` checks that with a server that numbers
//!   handles alike) — and closes without harm;
//! - a new buffer allocates, maps write-combining and holds what is written;
//! - afterwards the pool is whole (as before the test's buffers existed), and processes and
//!   frames are as before, dmad's new pid aside.

use crate::snapshot::Snapshot;
use crate::{settle, ATTACKER, SETTLE_TIME};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;
use dma_tests::buffer::{map_raw, Buffer};
use dma_tests::text::dmad_pid;
use dma_tests::translate::{self, Translation};
use dma_tests::{stats, DEVICE, PAGE_SIZE};
use process_tests::check::{errno_name, expect_ending, expect_errno, expect_ok, Outcome};
use process_tests::{child, ensure};
use userlib::sys::error::{EBADF, EINVAL};
use userlib::sys::{self, flag::O_RDONLY, Ending};
use userlib::time;

/// The mapped buffer's size: several pages, so several page-table entries must go.
const HELD_SIZE: usize = 4 * PAGE_SIZE;

/// The test.
pub fn kill_dmad_holding_buffers() -> Outcome {
    let before = Snapshot::take()?;
    let old_dmad = dmad_pid()?;
    let me = expect_ok("getpid", sys::getpid())?;

    let mapped = Buffer::allocate(DEVICE, HELD_SIZE)
        .map_err(|error| format!("allocate: {}", errno_name(error.errno)))?;
    let address = expect_ok("fmap", map_raw(mapped.fd(), 0, HELD_SIZE))?;
    fill(address, HELD_SIZE);
    expect_write_combining(me, address, "the held buffer")?;
    let unmapped = Buffer::allocate(DEVICE, PAGE_SIZE)
        .map_err(|error| format!("allocate: {}", errno_name(error.errno)))?;
    let text = expect_ok("open dma:/", sys::open("dma:/", O_RDONLY))?;
    // Another client keeps asking dmad throughout (see `hostile-attacker through-restart`).
    let client = child::start(ATTACKER, &["through-restart"])?;
    let _ = time::sleep(Duration::from_millis(100));

    expect_ok("kill dmad", sys::kill(old_dmad))?;
    let new_dmad = wait_for_new_dmad(old_dmad)?;
    expect_ending(
        "hostile-attacker through-restart",
        child::wait(client)?,
        Ending::Exited(0),
    )?;

    for page in 0..HELD_SIZE / PAGE_SIZE {
        let at = address + page * PAGE_SIZE;
        let translation = translate::query(me, at)?;
        ensure!(
            translation == Translation::Unmapped,
            "page {page} of the dead dmad's buffer is still mapped: {translation:?}"
        );
    }
    // SAFETY: the range was the revoked buffer's; nothing of this process is there now (the
    // kernel maps nothing new there while this runs), so an unmap could remove nothing.
    let unmap = unsafe { sys::funmap(address, HELD_SIZE) };
    ensure!(
        unmap.as_ref().err().map(|error| error.errno) == Some(EINVAL),
        "funmap of the revoked mapping gave {:?}, not EINVAL",
        unmap.map_err(|error| errno_name(error.errno))
    );
    for (what, fd) in [
        ("the mapped buffer", mapped.fd()),
        ("the open buffer", unmapped.fd()),
        ("dma:/", text),
    ] {
        let mut bytes = [0u8; 64];
        expect_errno(
            &format!("read {what} of the dead dmad"),
            sys::read(fd, &mut bytes),
            EBADF,
        )?;
    }
    expect_errno(
        "fmap the dead dmad's buffer",
        map_raw(unmapped.fd(), 0, PAGE_SIZE),
        EBADF,
    )?;
    let _ = sys::close(text);
    drop(mapped);
    drop(unmapped);

    // The restarted dmad serves, with its pools whole.
    stats::settle(
        DEVICE,
        before.pool,
        "the restarted dmad, every old buffer gone",
    )?;
    {
        let fresh = Buffer::allocate(DEVICE, HELD_SIZE)
            .map_err(|error| format!("allocate from the new dmad: {}", errno_name(error.errno)))?;
        let mapping = fresh
            .map_all()
            .map_err(|error| format!("map from the new dmad: {}", errno_name(error.errno)))?;
        expect_write_combining(me, mapping.address(), "the new dmad's buffer")?;
        mapping.fill(|index| index as u64 ^ 0x5a5a);
        mapping.expect("the new dmad's buffer", |index| index as u64 ^ 0x5a5a)?;
    }
    let expected = Snapshot {
        schemes: with_server(&before.schemes, old_dmad, new_dmad),
        ..before
    };
    settle("dmad's restart", &expected)
}

/// Waits until `dma:` is served by a pid other than `old`, for a while.
fn wait_for_new_dmad(old: usize) -> Result<usize, String> {
    let start = time::monotonic().unwrap_or_default();
    loop {
        if let Ok(pid) = dmad_pid() {
            if pid != old {
                return Ok(pid);
            }
        }
        let now = time::monotonic().unwrap_or_default();
        if now.saturating_sub(start) > 2 * SETTLE_TIME {
            return Err(format!("init did not restart dmad (pid {old} killed)"));
        }
        let _ = time::sleep(Duration::from_millis(20));
    }
}

/// Passes when `address` in `pid` is a write-combining page; `what` names it.
fn expect_write_combining(pid: usize, address: usize, what: &str) -> Outcome {
    match translate::query(pid, address)? {
        Translation::Mapped { cache, .. } if cache == "write-combining" => Ok(()),
        other => Err(format!("{what} is {other:?}, not a write-combining page")),
    }
}

/// `sys:schemes` text with the schemes served by `old` served by `new`.
fn with_server(schemes: &str, old: usize, new: usize) -> String {
    let lines: Vec<String> = schemes
        .lines()
        .map(|line| match line.split_once(' ') {
            Some((name, pid)) if pid.trim().parse() == Ok(old) => format!("{name} {new}"),
            _ => String::from(line),
        })
        .collect();
    let mut text = lines.join("\n");
    if schemes.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Writes a pattern over `size` bytes at `address`, a mapping of a pool buffer.
fn fill(address: usize, size: usize) {
    let base = address as *mut u64;
    for index in 0..size / 8 {
        // SAFETY: `address` is a read-write mapping of `size` bytes this test made and
        // nothing else in this process touches.
        unsafe { base.add(index).write_volatile(index as u64) };
    }
}
