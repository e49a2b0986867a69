//! Opening by path, and the one table of kernel schemes.
//!
//! Each scheme is one implementation of [`crate::object::Scheme`] in its own file: the
//! kernel's (`debug:`, `initfs:`, `sys:`, `memory:`, `device:`, `irq:`, `iommu:`, `console:`, listed in
//! [`TABLE`]), the scheme socket a server gets by opening `:NAME` ([`socket`]), and the
//! proxy that forwards every other name to the process serving it ([`user`]). Adding a kernel scheme is one new
//! file here and one line in [`TABLE`]; no system call changes.

mod bytes;
mod console;
mod debug;
mod device;
mod initfs;
mod iommu;
mod irq;
mod mapping;
mod memory;
mod socket;
pub mod sys;
mod user;

pub use initfs::{init, initfs_file};
pub use irq::fired as irq_fired;

use crate::ipc;
use crate::object::{Caller, File, OpenFile, OpenRequest, Scheme};
use kernel_core::abi::{DEVICE_SCHEME, IRQ_SCHEME, MEMORY_SCHEME};
use kernel_core::iommu::IOMMU_SCHEME;
use kernel_core::Error;

/// The device-interrupt hook: interrupt `id` is the console's input or a device line's.
pub fn interrupt_fired(id: u32) {
    if !console::fired(id) {
        irq_fired(id);
    }
}

/// The kernel's own schemes by name. No process may register these names.
static TABLE: [(&str, &dyn Scheme); 8] = [
    ("debug", &debug::Debug),
    ("initfs", &initfs::INITFS_SCHEME),
    ("sys", &sys::SYSTEM),
    (MEMORY_SCHEME, &memory::Memory),
    (DEVICE_SCHEME, &device::Device),
    (IRQ_SCHEME, &irq::Irq),
    (IOMMU_SCHEME, &iommu::IommuScheme),
    ("console", &console::ConsoleInput),
];

/// Whether the kernel serves scheme `name` itself.
pub fn is_kernel_scheme(name: &str) -> bool {
    TABLE.iter().any(|(kernel, _)| *kernel == name)
}

/// Opens `path` for `caller`: `:NAME` registers scheme `NAME` and opens its socket;
/// `NAME:rest` (or `/scheme/NAME/rest`) opens `rest` on a kernel scheme or a user scheme.
///
/// The open file itself is one small allocation the heap is not asked about first (stable
/// Rust has no fallible `Arc`); a process can hold at most `MAX_DESCRIPTORS` of them.
pub fn open(path: &str, caller: &Caller<'_>, flags: usize) -> Result<File, Error> {
    let (scheme, name, rest): (&'static dyn Scheme, &str, &str) = if let Some(name) =
        path.strip_prefix(':')
    {
        (&socket::Sockets, name, name)
    } else {
        let (name, rest) = kernel_core::path::parse(path).map_err(|_| Error::InvalidArgument)?;
        let scheme = match TABLE.iter().find(|(kernel, _)| *kernel == name) {
            Some((_, scheme)) => *scheme,
            None if ipc::exists(name) => &user::UserSchemes,
            None => return Err(Error::NotFound),
        };
        (scheme, name, rest)
    };
    let handle = scheme.open(&OpenRequest {
        scheme: name,
        path: rest,
        flags,
        caller,
    })?;
    Ok(OpenFile::new(scheme, handle))
}
