//! Starting a child and waiting for it, with failures as reasons.

use crate::check::errno_name;
use alloc::format;
use alloc::string::String;
use userlib::sys::{self, Ending};

/// Spawns `path` with `args` and no rights, returning its process id.
pub fn start(path: &str, args: &[&str]) -> Result<usize, String> {
    sys::spawn(path, args)
        .map_err(|error| format!("spawn {path} {args:?}: {}", errno_name(error.errno)))
}

/// Spawns `path` with `args` and the rights of manifest section `section`, returning its
/// process id.
pub fn start_as(section: &str, path: &str, args: &[&str]) -> Result<usize, String> {
    sys::spawn_with_rights(path, args, section).map_err(|error| {
        format!(
            "spawn {path} {args:?} as {section}: {}",
            errno_name(error.errno)
        )
    })
}

/// Waits (blocking) for child `pid` and reports how it ended.
pub fn wait(pid: usize) -> Result<Ending, String> {
    let (reaped, status) = sys::waitpid(pid, false)
        .map_err(|error| format!("waitpid({pid}): {}", errno_name(error.errno)))?;
    if reaped != pid {
        return Err(format!("waitpid({pid}) reaped process {reaped}"));
    }
    Ok(Ending::from_status(status))
}

/// Spawns `path` with `args` and no rights, waits for it and reports how it ended.
pub fn run(path: &str, args: &[&str]) -> Result<Ending, String> {
    wait(start(path, args)?)
}

/// Spawns `path` with `args` and section `section`'s rights, waits for it and reports how it
/// ended.
pub fn run_as(section: &str, path: &str, args: &[&str]) -> Result<Ending, String> {
    wait(start_as(section, path, args)?)
}
