//! `sys:translate/PID/ADDRESS`: the kernel's view of one page of a process, so test programs
//! can check a mapping (its frame, cache type and permissions) from the kernel's side.

use crate::process::{self, ProcessId};
use alloc::format;
use alloc::string::String;
use kernel_core::Error;

/// The text of `sys:translate/PID/ADDRESS` (decimal pid, hexadecimal address) in a test image.
pub fn text(rest: &str) -> Result<String, Error> {
    let (id, address) = rest.split_once('/').ok_or(Error::InvalidArgument)?;
    let id: ProcessId = id.parse().map_err(|_| Error::InvalidArgument)?;
    let address = u64::from_str_radix(address.trim_start_matches("0x"), 16)
        .map_err(|_| Error::InvalidArgument)?;
    if !super::hooks::is_test_image() {
        return Err(Error::NotFound);
    }
    process::with(|table| {
        let space = table
            .map
            .get(&id)
            .and_then(|process| process.space.as_ref())
            .ok_or(Error::NotFound)?;
        Ok(match space.translate(address) {
            Some((physical, flags)) => format!(
                "physical {physical:#x} cache {} {}{}{}\n",
                flags.cache_type().name(),
                if flags.is_user() { "user" } else { "kernel" },
                if flags.is_writable() { " writable" } else { "" },
                if flags.is_executable() {
                    " executable"
                } else {
                    ""
                }
            ),
            None => String::from("unmapped\n"),
        })
    })
}
