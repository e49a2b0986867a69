//! `irq:NAME`: a device's interrupt for the process granted that device (see
//! `crate::interrupts` for what `read` and `write` mean).

use crate::process::OpenFile;
use kernel_core::rights::Rights;
use redox_syscall::error::{EACCES, ENOENT};

/// Opens `irq:NAME` for process `pid` called `name` holding `rights`: `ENOENT` for an
/// unknown device, `EACCES` without its grant, `EBUSY` if another process holds the line,
/// `ENODEV` if its interrupt cannot be routed.
pub fn open(rest: &str, pid: u32, name: &str, rights: &Rights) -> Result<OpenFile, i32> {
    let device = crate::devices::find(rest).ok_or(ENOENT)?;
    if !rights.may_use_device(rest) {
        log::warn!("process {name} may not take the interrupts of device {rest}");
        return Err(EACCES);
    }
    crate::interrupts::Holder::open(&device, pid).map(OpenFile::Interrupt)
}
