//! `sys:` texts: uptime, memory, devices, platform (the machine description and the CPU's
//! interrupt stacks), processes, one process, registered user schemes; and, in test kernels
//! only, what `test_hooks::system_text` adds (the translation of a process's address, so tests
//! can check a mapping from the kernel side).

use super::bytes::{ByteFile, Bytes};
use crate::arch::{Arch, Cpu};
use crate::object::{Handles, OpenRequest, Scheme, Sink, Status};
use crate::process::{self, ProcessId};
use alloc::format;
use alloc::string::String;
use core::fmt::Write;
use kernel_core::user_mode::UserMode;
use kernel_core::Error;

static HANDLES: Handles<ByteFile> = Handles::new();

/// The `sys:` scheme: each open makes its text once; reads and seeks go through it.
pub struct System;

impl Scheme for System {
    fn open(&self, request: &OpenRequest<'_>) -> Result<u64, Error> {
        HANDLES.insert(ByteFile::new(Bytes::Owned(text(request.path)?.into_bytes())))
    }

    fn read(&self, handle: u64, buffer: &mut dyn Sink) -> Result<usize, Error> {
        HANDLES.with(handle, |file| file.read(buffer))?
    }

    fn seek(&self, handle: u64, offset: isize, whence: usize) -> Result<usize, Error> {
        HANDLES.with(handle, |file| file.seek(offset, whence))?
    }

    fn status(&self, handle: u64) -> Result<Status, Error> {
        HANDLES.with(handle, |file| file.status())
    }

    fn close(&self, handle: u64) {
        HANDLES.remove(handle);
    }
}

/// The text of `sys:NAME`.
fn text(name: &str) -> Result<String, Error> {
    let mut text = String::new();
    match name {
        "uptime" => {
            let _ = writeln!(text, "uptime-ns {}", Cpu::monotonic_nanoseconds());
        }
        "memory" => {
            let _ = writeln!(text, "free-pages {}", crate::memory::frames::free_pages());
            let _ = writeln!(
                text,
                "shared-pages {}",
                crate::memory::frames::shared_frames()
            );
            let _ = writeln!(text, "page-size 4096");
        }
        "devices" => text.push_str(&crate::devices::table_text()),
        "platform" => {
            let _ = crate::platform::machine_description().write_text(&mut text);
            text.push_str(&interrupt_stacks_text());
        }
        "schemes" => {
            for (name, owner) in crate::ipc::list() {
                let _ = writeln!(text, "{name} {owner}");
            }
        }
        "processes" => {
            let _ = writeln!(
                text,
                "{:>5} {:>6} {:<20} {:<18} {:>6}",
                "pid", "parent", "name", "state", "pages"
            );
            for (id, parent, name, state, pages) in process::list() {
                let parent = parent.map_or(String::from("-"), |parent| format!("{parent}"));
                let _ = writeln!(
                    text,
                    "{id:>5} {parent:>6} {name:<20} {:<18} {pages:>6}",
                    format!("{state:?}")
                );
            }
        }
        _ => {
            if let Some(id) = name.strip_prefix("process/") {
                return one_process(id.parse().map_err(|_| Error::InvalidArgument)?);
            }
            if let Some(text) = crate::test_hooks::system_text(name) {
                return text;
            }
            return Err(Error::NotFound);
        }
    }
    Ok(text)
}

/// `sys:platform`'s interrupt-stack lines: each as `ist NAME BOTTOM TOP GUARD GUARD_STATE`,
/// the guard's state (`unmapped` or `mapped`) looked up in the kernel's live tables.
fn interrupt_stacks_text() -> String {
    let mut text = String::new();
    for stack in Cpu::interrupt_stacks() {
        let state = if crate::memory::kernel_space::translate(stack.guard).is_some() {
            "mapped"
        } else {
            "unmapped"
        };
        let _ = writeln!(
            text,
            "ist {} {:#x} {:#x} {:#x} {state}",
            stack.name, stack.bottom, stack.top, stack.guard
        );
    }
    text
}

fn one_process(id: ProcessId) -> Result<String, Error> {
    let (_, parent, name, state, pages) = process::list()
        .into_iter()
        .find(|entry| entry.0 == id)
        .ok_or(Error::NotFound)?;
    let parent = parent.map_or(String::from("-"), |parent| format!("{parent}"));
    Ok(format!(
        "pid {id}\nname {name}\nparent {parent}\nstate {state:?}\npages {pages}\n"
    ))
}
