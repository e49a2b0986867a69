//! `sys:` texts: uptime, memory, devices, interrupts (`crate::interrupts`), platform (the machine description and the CPU's
//! interrupt stacks), processes, one process, registered user schemes; and, in test kernels
//! only, what `test_hooks::system_text` adds (the translation of a process's address, so tests
//! can check a mapping from the kernel side).

use crate::arch::{Arch, Cpu};
use crate::memory::pools::PoolTable;
use crate::process::{self, ProcessId};
use alloc::format;
use alloc::string::String;
use core::fmt::Write;
use kernel_core::user_mode::UserMode;
use redox_syscall::error::{EINVAL, ENOENT};

/// The text of `sys:NAME`.
pub fn text(name: &str) -> Result<String, i32> {
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
        "interrupts" => text.push_str(&crate::interrupts::table_text()),
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
                return one_process(id.parse().map_err(|_| EINVAL)?);
            }
            if let Some(text) = crate::test_hooks::system_text(name) {
                return text;
            }
            return Err(ENOENT);
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

fn one_process(id: ProcessId) -> Result<String, i32> {
    let (_, parent, name, state, pages) = process::list()
        .into_iter()
        .find(|entry| entry.0 == id)
        .ok_or(ENOENT)?;
    let parent = parent.map_or(String::from("-"), |parent| format!("{parent}"));
    Ok(format!(
        "pid {id}\nname {name}\nparent {parent}\nstate {state:?}\npages {pages}\n"
    ))
}

/// `memory:pools`: one line per declared pool,
/// `pool NAME PHYSICAL DEVICE_BASE SIZE map|no-map DEVICES [default]`, DEVICES being `-` for
/// a pool that serves no device of its own (the global pool may).
pub fn pool_table(pools: &PoolTable) -> String {
    let mut text = String::new();
    for pool in pools.iter() {
        let devices: alloc::vec::Vec<&str> = pool.devices().collect();
        let devices = if devices.is_empty() {
            String::from("-")
        } else {
            devices.join(",")
        };
        let _ = writeln!(
            text,
            "pool {} {:#x} {:#x} {:#x} {} {}{}",
            pool.name,
            pool.physical_base,
            pool.device_base,
            pool.size,
            if pool.no_map { "no-map" } else { "map" },
            devices,
            if pool.default { " default" } else { "" }
        );
    }
    text
}
