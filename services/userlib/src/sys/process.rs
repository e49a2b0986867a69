//! Process calls: exit, spawn, waitpid, getpid and power-off.

use alloc::vec::Vec;
use kernel_core::abi::{
    SpawnRights, EXIT_KILLED, SYS_EXIT, SYS_GETPID, SYS_KILL, SYS_POWER_OFF, SYS_SPAWN,
    SYS_WAITPID, WAIT_NO_HANG,
};
use kernel_core::rights::Rights;
use syscall::error::EINVAL;
use syscall::{syscall0, syscall1, syscall3, syscall5, Error, Result};

/// Ends the calling process with `status` (its low 32 bits are what `waitpid` reports). The
/// kernel closes every descriptor the process holds.
pub fn exit(status: i32) -> ! {
    loop {
        // SAFETY: no memory is passed; the call does not return.
        let _ = unsafe { syscall1(SYS_EXIT, status as u32 as usize) };
    }
}

/// Turns the machine off with `status` (0 = success); returns only when the kernel refuses,
/// with its error (`EPERM` unless the caller holds the `power` right, or is init in a test
/// image).
pub fn try_power_off(status: i32) -> Error {
    // SAFETY: no memory is passed; on success the call does not return.
    match unsafe { syscall1(SYS_POWER_OFF, status as u32 as usize) } {
        Err(error) => error,
        Ok(_) => Error::new(syscall::error::EIO),
    }
}

/// Ends the whole run with `status` (0 = success). Only init may, and only in a test image
/// (or a process holding the `power` right); anyone else gets an error, and then this exits
/// the process with status 1 instead.
pub fn power_off(status: i32) -> ! {
    // SAFETY: no memory is passed; on success the call does not return.
    let _ = unsafe { syscall1(SYS_POWER_OFF, status as u32 as usize) };
    exit(1)
}

/// The calling process's id.
///
/// # Errors
///
/// None expected; the result is a `Result` like every other call.
pub fn getpid() -> Result<usize> {
    // SAFETY: no memory is passed.
    unsafe { syscall0(SYS_GETPID) }
}

/// Kills process `pid`: it ends as if it had faulted, and its parent's [`waitpid`] reports
/// [`Ending::Killed`] (see `kernel_core::abi::SYS_KILL` for when it dies).
///
/// # Errors
///
/// `EPERM` unless the caller is `pid`'s parent or holds a `kills` right naming `pid`'s
/// manifest section (and always for init); `ESRCH` when there is no such process.
pub fn kill(pid: usize) -> Result<()> {
    // SAFETY: no memory is passed.
    unsafe { syscall1(SYS_KILL, pid) }.map(|_| ())
}

/// Starts the initfs program at `path` with `args` (which do not include the program name:
/// the kernel makes `argv[0]` the path itself). Returns the child's process id.
///
/// # Errors
///
/// `EINVAL` when an argument holds a NUL; from the kernel `ENOENT` for a missing program,
/// `ENOEXEC` when it is not a valid ELF for this CPU, `ENOMEM`, `EFAULT`.
///
/// The child gets no rights; see [`spawn_with_rights`].
pub fn spawn(path: &str, args: &[&str]) -> Result<usize> {
    spawn_with(path, args, None)
}

/// Like [`spawn`], but the child gets the rights of the image manifest's section `section`
/// (`[process.SECTION]`).
///
/// # Errors
///
/// Those of [`spawn`], and from the kernel `ENOENT` when there is no such section and
/// `EPERM` when the caller may not grant its rights (only init may grant any section's;
/// others a section listed in their `spawns`, or one whose rights they hold themselves).
pub fn spawn_with_rights(path: &str, args: &[&str], section: &str) -> Result<usize> {
    spawn_with(path, args, Some(section))
}

fn spawn_with(path: &str, args: &[&str], section: Option<&str>) -> Result<usize> {
    let packed = pack_arguments(args)?;
    let rights = section.map(|section| SpawnRights {
        section_address: section.as_ptr() as u64,
        section_length: section.len() as u64,
    });
    let rights_address = rights
        .as_ref()
        .map_or(0, |rights| rights as *const SpawnRights as usize);
    // SAFETY: the kernel only reads the buffers (path, arguments, the rights request and the
    // section name it points to), which all live across the call.
    unsafe {
        syscall5(
            SYS_SPAWN,
            path.as_ptr() as usize,
            path.len(),
            packed.as_ptr() as usize,
            packed.len(),
            rights_address,
        )
    }
}

/// Packs `args` into the one buffer `SYS_SPAWN` takes: each string followed by a NUL.
///
/// # Errors
///
/// `EINVAL` when a string already holds a NUL (it would split into two arguments).
pub fn pack_arguments(args: &[&str]) -> Result<Vec<u8>> {
    let mut packed = Vec::with_capacity(args.iter().map(|arg| arg.len() + 1).sum());
    for arg in args {
        if arg.as_bytes().contains(&0) {
            return Err(Error::new(EINVAL));
        }
        packed.extend_from_slice(arg.as_bytes());
        packed.push(0);
    }
    Ok(packed)
}

/// Waits for child `pid` (0 = any child) to end and returns its id and raw status (see
/// [`Ending::from_status`]). With `no_hang`, returns `(0, 0)` at once when no child has
/// ended yet.
///
/// # Errors
///
/// `ECHILD` when `pid` is not a child of this process (or, for 0, there is none).
pub fn waitpid(pid: usize, no_hang: bool) -> Result<(usize, u64)> {
    let mut status: u64 = 0;
    let flags = if no_hang { WAIT_NO_HANG } else { 0 };
    // SAFETY: the kernel writes one `u64` at `&mut status`, a live local.
    let child = unsafe { syscall3(SYS_WAITPID, pid, &mut status as *mut u64 as usize, flags) }?;
    Ok((child, status))
}

/// How a child process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It called `exit` (or returned from `main`) with this status.
    Exited(i32),
    /// The kernel killed it (a fault).
    Killed,
}

impl Ending {
    /// Decodes a `waitpid` status: bit 32 ([`EXIT_KILLED`]) means killed, otherwise the low
    /// 32 bits are the exit status.
    pub fn from_status(status: u64) -> Self {
        if status & EXIT_KILLED != 0 {
            Self::Killed
        } else {
            Self::Exited(status as u32 as i32)
        }
    }

    /// Whether the process exited with status 0.
    pub fn is_success(self) -> bool {
        self == Self::Exited(0)
    }
}

impl core::fmt::Display for Ending {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Exited(status) => write!(formatter, "exited with status {status}"),
            Self::Killed => formatter.write_str("was killed"),
        }
    }
}

/// The rights of the process that sent request `tag` to the scheme the caller serves on
/// `socket`, from the kernel. The kernel answers only while that request awaits its reply,
/// so the answer is about the sender even if its pid were reused later.
///
/// # Errors
///
/// From the kernel `ENOENT` when no request with that tag is pending, `EBADF` when `socket`
/// is not a scheme socket; `EINVAL` when the answer cannot be read.
pub fn caller_rights(socket: usize, tag: u32) -> Result<Rights> {
    let mut buffer = [0u8; kernel_core::abi::SCHEME_MAX_PAYLOAD];
    buffer[..4].copy_from_slice(&tag.to_le_bytes());
    let length = socket_call(socket, &mut buffer)?;
    core::str::from_utf8(&buffer[..length])
        .ok()
        .and_then(Rights::parse)
        .ok_or(Error::new(EINVAL))
}

/// Asks the kernel, on scheme socket `socket`, for `device`'s quiesce state: tag 0 (never a
/// request's), then the name and a NUL; the answer is one line,
/// `NAME holder PID|- state STATE generation G confirmed C`.
///
/// # Errors
///
/// `EINVAL` for a name longer than 63 bytes or an answer that is not text.
pub fn device_quiesce_state(socket: usize, device: &str) -> Result<alloc::string::String> {
    let mut buffer = [0u8; 256];
    if device.len() >= 64 {
        return Err(Error::new(EINVAL));
    }
    buffer[4..4 + device.len()].copy_from_slice(device.as_bytes());
    let length = socket_call(socket, &mut buffer)?;
    core::str::from_utf8(&buffer[..length])
        .map(alloc::string::String::from)
        .map_err(|_| Error::new(EINVAL))
}

/// A `call` on scheme socket `socket`: the kernel reads the question from `buffer` and
/// writes its answer there; returns the answer's length.
fn socket_call(socket: usize, buffer: &mut [u8]) -> Result<usize> {
    // SAFETY: the kernel reads from and writes into `buffer`, which lives across the call,
    // within its length.
    unsafe {
        syscall3(
            syscall::number::SYS_CALL,
            socket,
            buffer.as_mut_ptr() as usize,
            buffer.len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_each_argument_with_a_nul() {
        assert_eq!(pack_arguments(&[]).unwrap(), b"");
        assert_eq!(pack_arguments(&["300"]).unwrap(), b"300\0");
        assert_eq!(pack_arguments(&["a", "", "b c"]).unwrap(), b"a\0\0b c\0");
    }

    #[test]
    fn refuses_an_argument_holding_a_nul() {
        assert_eq!(pack_arguments(&["a\0b"]), Err(Error::new(EINVAL)));
    }

    #[test]
    fn decodes_exit_statuses() {
        assert_eq!(Ending::from_status(0), Ending::Exited(0));
        assert_eq!(Ending::from_status(101), Ending::Exited(101));
        assert_eq!(Ending::from_status(0xFFFF_FFFF), Ending::Exited(-1));
        assert_eq!(Ending::from_status(EXIT_KILLED), Ending::Killed);
        assert_eq!(Ending::from_status(EXIT_KILLED | 14), Ending::Killed);
        assert!(Ending::Exited(0).is_success());
        assert!(!Ending::Killed.is_success());
        assert_eq!(Ending::Killed.to_string(), "was killed");
        assert_eq!(Ending::Exited(3).to_string(), "exited with status 3");
    }
}
