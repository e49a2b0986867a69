//! The kernel's view of one page of a process: `sys:translate/PID/ADDRESS` (test images only).
//!
//! The path takes a decimal process id and a hexadecimal address (written without `0x`);
//! the text is `physical 0xPHYSICAL cache TYPE [user] [writable]...` with `TYPE` one of
//! `write-back`, `write-combining`, `uncached`, `device` — or `unmapped`.

use crate::text::{number_of, read_text, value_of};
use alloc::format;
use alloc::string::String;
use process_tests::check::errno_name;

/// How a page is mapped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Translation {
    /// Nothing maps the address.
    Unmapped,
    /// A page maps it.
    Mapped {
        /// The physical address the virtual address translates to.
        physical: u64,
        /// The cache type's name, e.g. `write-combining`.
        cache: String,
        /// The process may use it (not kernel-only).
        user: bool,
        /// The process may write it.
        writable: bool,
    },
}

/// Reads a translation text; `None` when it is neither form.
pub fn parse(text: &str) -> Option<Translation> {
    if text.split_whitespace().any(|word| word == "unmapped") {
        return Some(Translation::Unmapped);
    }
    let has = |flag: &str| text.split_whitespace().any(|word| word == flag);
    Some(Translation::Mapped {
        physical: number_of(text, "physical")?,
        cache: String::from(value_of(text, "cache")?),
        user: has("user"),
        writable: has("writable"),
    })
}

/// The path that asks about `address` in process `pid`.
pub fn path(pid: usize, address: usize) -> String {
    format!("sys:translate/{pid}/{address:x}")
}

/// How `address` is mapped in process `pid`.
///
/// # Errors
///
/// A reason when the file cannot be read or parsed.
pub fn query(pid: usize, address: usize) -> Result<Translation, String> {
    let path = path(pid, address);
    let text =
        read_text(&path).map_err(|error| format!("read {path}: {}", errno_name(error.errno)))?;
    parse(&text).ok_or_else(|| format!("{path}: cannot read {text:?}"))
}

/// Checks that `address` in `pid` is a user-writable, write-combining page at `physical`.
///
/// # Errors
///
/// A reason naming what differs.
pub fn expect_write_combining(pid: usize, address: usize, physical: u64) -> Result<(), String> {
    let expected = Translation::Mapped {
        physical,
        cache: String::from("write-combining"),
        user: true,
        writable: true,
    };
    let found = query(pid, address)?;
    if found == expected {
        Ok(())
    } else {
        Err(format!(
            "page at {address:#x}: expected {expected:?}, the kernel reports {found:?}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_forms() {
        assert_eq!(
            parse("physical 0x4800_0000 cache write-combining user writable\n"),
            Some(Translation::Mapped {
                physical: 0x4800_0000,
                cache: "write-combining".into(),
                user: true,
                writable: true,
            })
        );
        assert_eq!(
            parse("physical 0x1000 cache write-back"),
            Some(Translation::Mapped {
                physical: 0x1000,
                cache: "write-back".into(),
                user: false,
                writable: false,
            })
        );
        assert_eq!(parse("unmapped\n"), Some(Translation::Unmapped));
        assert_eq!(parse("what?"), None);
        assert_eq!(path(12, 0x7f00_1000), "sys:translate/12/7f001000");
    }
}
