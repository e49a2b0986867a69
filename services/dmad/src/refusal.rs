//! Why a request was refused: an errno with its name and a reason for the log.

use dma_api::DmaError;
use dma_pool::PoolError;

/// A refused request: the errno the client gets and why, for dmad's log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The Redox errno number.
    pub errno: i32,
    /// Its name, e.g. `"EACCES"`.
    pub name: &'static str,
    /// A short explanation.
    pub reason: &'static str,
}

impl Refusal {
    /// A refusal with one of the scheme's errors and a specific reason.
    pub const fn new(error: DmaError, reason: &'static str) -> Self {
        Refusal {
            errno: error.errno(),
            name: error.name(),
            reason,
        }
    }

    /// An opcode the scheme does not serve (`ENOSYS`).
    pub const fn unsupported() -> Self {
        Refusal {
            errno: syscall::error::ENOSYS,
            name: "ENOSYS",
            reason: "request not served by dma:",
        }
    }
}

impl From<DmaError> for Refusal {
    fn from(error: DmaError) -> Self {
        Refusal::new(error, error.meaning())
    }
}

impl From<PoolError> for Refusal {
    fn from(error: PoolError) -> Self {
        let scheme_error = DmaError::from_name(error.errno_name())
            .expect("every pool error is one of the scheme's errnos");
        Refusal::new(scheme_error, error.reason())
    }
}
