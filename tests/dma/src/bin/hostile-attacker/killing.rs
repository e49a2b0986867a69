//! Attacks and checks about killing, run by `hostile-attacker` with no rights: `kill` (who
//! may kill whom) and `through-restart` (a client of dmad while the driver kills it and init
//! starts a new one).

use crate::SELF;
use alloc::format;
use core::time::Duration;
use process_tests::check::{errno_name, expect_errno, expect_ok, Outcome};
use process_tests::ensure;
use userlib::sys::error::{EBADF, EIO, ENOENT, EPERM, ESRCH};
use userlib::sys::flag::O_RDONLY;
use userlib::sys::{self, Ending};
use userlib::{println, time};

/// How long `through-restart` waits for a new dmad.
const RESTART_WAIT: Duration = Duration::from_secs(20);

/// Killing: dmad, init and the idle thread are `EPERM` without a right naming them; a pid
/// nobody has is `ESRCH`; its own sleeping child dies at once (a parent may kill its child).
pub fn kill() -> Outcome {
    let dmad = dma_tests::text::dmad_pid()?;
    expect_errno("kill dmad", sys::kill(dmad), EPERM)?;
    expect_errno("kill init", sys::kill(1), EPERM)?;
    expect_errno("kill the idle thread", sys::kill(0), EPERM)?;
    expect_errno("kill a pid nobody has", sys::kill(u32::MAX as usize), ESRCH)?;
    expect_errno("kill a pid beyond u32", sys::kill(usize::MAX), ESRCH)?;
    let child = expect_ok("spawn a sleeper", sys::spawn(SELF, &["sleep"]))?;
    expect_ok("kill its own child", sys::kill(child))?;
    let (_, status) = expect_ok("waitpid", sys::waitpid(child, false))?;
    ensure!(
        Ending::from_status(status) == Ending::Killed,
        "its killed child ended {:?}",
        Ending::from_status(status)
    );
    Ok(())
}

/// A client of dmad while it is killed and restarted (the driver does both): it holds a
/// `dma:/` handle and asks dmad for its table over and over. Every refusal must be clean
/// (`EIO` for a request pending or sent while no dmad serves, `ENOENT` while `dma:` is
/// unregistered, `EBADF` for the old handle afterwards) and no call may hang; it ends once a
/// new dmad answered, or fails after [`RESTART_WAIT`].
pub fn through_restart() -> Outcome {
    let first = dma_tests::text::dmad_pid()?;
    let held = expect_ok("open dma:/", sys::open("dma:/", O_RDONLY))?;
    let start = time::monotonic().unwrap_or_default();
    let mut refused = [0usize; 3];
    loop {
        let outcome = sys::open("dma:/", O_RDONLY).and_then(|fd| {
            let mut text = [0u8; 64];
            let read = sys::read(fd, &mut text);
            let _ = sys::close(fd);
            read
        });
        match outcome {
            Ok(_) => {
                if dma_tests::text::dmad_pid().is_ok_and(|pid| pid != first) {
                    break;
                }
            }
            Err(error) => match [EIO, ENOENT, EBADF].iter().position(|e| *e == error.errno) {
                Some(index) => refused[index] += 1,
                None => {
                    return Err(format!(
                        "a request while dmad restarted failed with {}",
                        errno_name(error.errno)
                    ))
                }
            },
        }
        let now = time::monotonic().unwrap_or_default();
        ensure!(
            now.saturating_sub(start) < RESTART_WAIT,
            "no new dmad answered within {RESTART_WAIT:?} (dmad was pid {first})"
        );
    }
    let mut text = [0u8; 64];
    expect_errno(
        "read the handle of the dead dmad",
        sys::read(held, &mut text),
        EBADF,
    )?;
    println!(
        "through-restart: refused while dmad was away: {} EIO, {} ENOENT, {} EBADF",
        refused[0], refused[1], refused[2]
    );
    Ok(())
}
