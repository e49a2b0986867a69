//! Checks that turn a result the test did not expect into a reason.

use alloc::format;
use alloc::string::String;
use core::fmt::Debug;
use userlib::sys::error::{
    Error, EACCES, EAGAIN, EBADF, EBUSY, ECHILD, EDQUOT, EFAULT, EINVAL, EIO, EMFILE, ENOENT,
    ENOEXEC, ENOMEM, ENOSYS, EPERM, ESRCH,
};
use userlib::sys::Ending;

/// A test's result: `Err` holds why it failed.
pub type Outcome = Result<(), String>;

/// Returns `Err(reason)` from the enclosing test unless `condition` holds.
#[macro_export]
macro_rules! ensure {
    ($condition:expr, $($reason:tt)+) => {
        if !$condition {
            return Err(::alloc::format!($($reason)+));
        }
    };
}

/// The errno's name, for reasons.
pub fn errno_name(errno: i32) -> String {
    let name = match errno {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        ENOEXEC => "ENOEXEC",
        EBADF => "EBADF",
        ECHILD => "ECHILD",
        ENOMEM => "ENOMEM",
        EACCES => "EACCES",
        EFAULT => "EFAULT",
        EINVAL => "EINVAL",
        ENOSYS => "ENOSYS",
        EIO => "EIO",
        EBUSY => "EBUSY",
        EDQUOT => "EDQUOT",
        EMFILE => "EMFILE",
        EAGAIN => "EAGAIN",
        ESRCH => "ESRCH",
        other => return format!("errno {other}"),
    };
    String::from(name)
}

/// Passes when `result` is the error `errno`; `what` names the call in the reason.
pub fn expect_errno<T: Debug>(what: &str, result: Result<T, Error>, errno: i32) -> Outcome {
    match result {
        Err(error) if error.errno == errno => Ok(()),
        Err(error) => Err(format!(
            "{what}: expected {}, got {}",
            errno_name(errno),
            errno_name(error.errno)
        )),
        Ok(value) => Err(format!(
            "{what}: expected {}, but it succeeded ({value:?})",
            errno_name(errno)
        )),
    }
}

/// Passes when `result` is `Ok`, giving its value.
pub fn expect_ok<T>(what: &str, result: Result<T, Error>) -> Result<T, String> {
    result.map_err(|error| format!("{what}: failed with {}", errno_name(error.errno)))
}

/// Passes when a child ended as `expected`.
pub fn expect_ending(what: &str, ending: Ending, expected: Ending) -> Outcome {
    if ending == expected {
        Ok(())
    } else {
        Err(format!("{what}: expected it {expected}, but it {ending}"))
    }
}
