//! Host-side QEMU harness: boots a guest image, reads its test lines and exit status.
//!
//! The guest speaks the protocol of ARCHITECTURE.md ("Tests and output"): one
//! `test NAME ... ok|FAILED` line per test and one closing line `SUITE-ARCH: N passed,
//! N failed`. A run passes only when the closing line is there, counts match the test lines,
//! nothing failed, no panic or fatal exception was printed, QEMU did not time out, and QEMU
//! exited with the arch's success status. Everything else is a failure with a reason.
//!
//! [`protocol`] is pure and unit-tested; [`qemu`] builds QEMU command lines; [`runner`] runs
//! them under a deadline; [`conversation`] types commands into a guest's shell.

pub mod conversation;
pub mod protocol;
pub mod qemu;
pub mod runner;

pub use conversation::{converse, Conversation};
pub use protocol::{judge, Verdict};
pub use qemu::{Accelerator, Arch, GicVersion, Machine};
pub use runner::{run, RunOutput};
