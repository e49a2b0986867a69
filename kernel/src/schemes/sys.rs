//! `sys:random` (random bytes, see [`random_bytes`]) and `sys:` texts: boot (`entry-counter N`: the user-readable counter when `kernel_main`
//! began), uptime, memory, cpu (the caller's CPU), cpus (each CPU's counters), user-copies (user copies whose fault was recovered), devices, quiesce (each held device's holder and quiesce
//! generations), interrupts (`crate::interrupts`), platform (the machine description and
//! the CPU's interrupt stacks), processes, one process, registered user schemes; and, in
//! test kernels only, what `test_hooks::system_text` adds (the translation of a process's
//! address, so tests can check a mapping from the kernel side).

use super::bytes::{ByteScheme, Bytes};
use crate::arch::{Arch, Cpu};
use crate::fallible::Text;
use crate::process::{self, ProcessId, Summary};
use alloc::string::String;
use core::fmt::{self, Write};
use kernel_core::user_mode::UserMode;
use kernel_core::Error;

/// The counter (`UserMode::counter_ticks`) when `kernel_main` began.
static BOOT_COUNTER: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Records the counter at kernel entry, for `sys:boot`.
pub fn record_boot_counter(ticks: u64) {
    BOOT_COUNTER.store(ticks, core::sync::atomic::Ordering::Relaxed);
}

/// The `sys:` scheme: each open makes its text once; reads and seeks go through it.
pub static SYSTEM: ByteScheme = ByteScheme::new(|request| match request.path {
    "random" => random_bytes(),
    path => text(path).map(|text| Bytes::Owned(text.into_bytes())),
});

/// `sys:random`: [`crate::random::MAX_BYTES`] fresh random bytes made at open, read like any
/// `sys:` file (a longer read gets those 256, the next read 0 at the end; reopen for more).
/// No rights needed, like `/dev/urandom`; each open costs one small heap buffer, bounded
/// by the descriptor table's limit, and draws on no exhaustible entropy count.
fn random_bytes() -> Result<Bytes, Error> {
    let mut bytes = alloc::vec::Vec::new();
    bytes
        .try_reserve_exact(crate::random::MAX_BYTES)
        .map_err(|_| Error::OutOfMemory)?;
    bytes.resize(crate::random::MAX_BYTES, 0);
    crate::random::fill(&mut bytes);
    Ok(Bytes::Owned(bytes))
}

/// The text of `sys:NAME`, built only as far as the kernel heap allows (`ENOMEM`).
fn text(name: &str) -> Result<String, Error> {
    let mut text = Text::new();
    let written = match name {
        // The counter user programs read, at kernel entry: `dmabench`'s boot figure.
        "boot" => writeln!(
            text,
            "entry-counter {}",
            BOOT_COUNTER.load(core::sync::atomic::Ordering::Relaxed)
        ),
        "uptime" => writeln!(text, "uptime-ns {}", Cpu::monotonic_nanoseconds()),
        "memory" => writeln!(
            text,
            "free-pages {}\nshared-pages {}\npage-size 4096",
            crate::memory::frames::free_pages(),
            crate::memory::frames::shared_frames()
        ),
        "devices" => crate::devices::write_table(&mut text),
        "quiesce" => crate::devices::quiesce::write_table(&mut text),
        "user-copies" => writeln!(text, "recovered-faults {}", Cpu::user_copies_recovered()),
        "interrupts" => crate::interrupts::write_table(&mut text),
        "iommu" => crate::iommu::write_text(&mut text),
        "platform" => crate::platform::machine_description()
            .write_text(&mut text)
            .and_then(|()| write_interrupt_stacks(&mut text)),
        // The CPU the opening process runs on while it opens (the text is made then).
        "cpu" => writeln!(text, "cpu {}", crate::smp::this_cpu()),
        "cpus" => write_cpus(&mut text),
        "schemes" => crate::ipc::for_each_scheme(|name, owner| writeln!(text, "{name} {owner}")),
        "processes" => writeln!(
            text,
            "{:>5} {:>6} {:<20} {:<18} {:>6}",
            "pid", "parent", "name", "state", "pages"
        )
        .and_then(|()| process::for_each_summary(|summary| write_summary_row(&mut text, &summary))),
        _ => {
            if let Some(id) = name.strip_prefix("process/") {
                let id: ProcessId = id.parse().map_err(|_| Error::InvalidArgument)?;
                return one_process(id);
            }
            if let Some(text) = crate::test_hooks::system_text(name) {
                return text;
            }
            return Err(Error::NotFound);
        }
    };
    // A write fails only when `Text` could not grow, which `finish` reports.
    let _ = written;
    text.finish()
}

/// `sys:cpus`: one row per running CPU with its counters.
fn write_cpus(text: &mut Text) -> fmt::Result {
    writeln!(
        text,
        "cpu hardware-id switches ipis-received ipis-sent shootdowns flushes ticks user-entries"
    )?;
    for cpu in crate::smp::summaries() {
        writeln!(
            text,
            "{} {:#x} {} {} {} {} {} {} {}",
            cpu.index,
            cpu.hardware_id,
            cpu.switches,
            cpu.ipis_received,
            cpu.ipis_sent,
            cpu.shootdowns,
            cpu.flushes,
            cpu.ticks,
            cpu.user_entries
        )?;
    }
    Ok(())
}

/// One row of `sys:processes`.
fn write_summary_row(text: &mut Text, summary: &Summary<'_>) -> fmt::Result {
    write!(text, "{:>5} ", summary.id)?;
    match summary.parent {
        Some(parent) => write!(text, "{parent:>6}")?,
        None => write!(text, "{:>6}", "-")?,
    }
    let mut state = Text::new();
    write!(state, "{:?}", summary.state)?;
    let state = state.finish().map_err(|_| fmt::Error)?;
    writeln!(
        text,
        " {:<20} {state:<18} {:>6}",
        summary.name, summary.pages
    )
}

/// `sys:platform`'s interrupt-stack lines: each as `ist NAME BOTTOM TOP GUARD GUARD_STATE`,
/// the guard's state (`unmapped` or `mapped`) looked up in the kernel's live tables.
fn write_interrupt_stacks(text: &mut Text) -> fmt::Result {
    for stack in Cpu::interrupt_stacks() {
        let state = if crate::memory::kernel_space::translate(stack.guard).is_some() {
            "mapped"
        } else {
            "unmapped"
        };
        writeln!(
            text,
            "ist {} {:#x} {:#x} {:#x} {state}",
            stack.name, stack.bottom, stack.top, stack.guard
        )?;
    }
    Ok(())
}

/// `sys:process/PID`.
fn one_process(id: ProcessId) -> Result<String, Error> {
    let mut text = Text::new();
    let mut found = false;
    let _ = process::for_each_summary(|summary| {
        if summary.id != id {
            return Ok(());
        }
        found = true;
        write!(text, "pid {id}\nname {}\nparent ", summary.name)?;
        match summary.parent {
            Some(parent) => write!(text, "{parent}")?,
            None => write!(text, "-")?,
        }
        writeln!(text, "\nstate {:?}\npages {}", summary.state, summary.pages)
    });
    if !found {
        return Err(Error::NotFound);
    }
    text.finish()
}
