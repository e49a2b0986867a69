//! The kernel's quiesce record of a device (`sys:quiesce`) and what dmad checked at its last
//! release of one of the device's buffers (`quiesce-checked` in `dma:/DEV/stats`).

use crate::text::{number_of, read_text, value_of};
use alloc::format;
use alloc::string::String;
use process_tests::check::errno_name;

/// A device's line in `sys:quiesce`: `NAME holder PID|- state STATE generation G confirmed C
/// last-holder PID|- files-at-quiesce N|-`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelRecord {
    /// `active`, `quiet`, `failed` or `idle` (no line: never held).
    pub state: String,
    /// The generation of its last quiesce attempt.
    pub generation: u64,
    /// The generation of its last confirmed quiesce.
    pub confirmed: u64,
    /// How many descriptors its last holder still had open when its exit quiesced the
    /// device (`None`: the hold ended by a close, or never).
    pub files_at_quiesce: Option<u64>,
}

/// `device`'s record in `sys:quiesce` now; an idle record if the device was never held.
pub fn kernel_record(device: &str) -> Result<KernelRecord, String> {
    let text = read_text("sys:quiesce")
        .map_err(|error| format!("read sys:quiesce: {}", errno_name(error.errno)))?;
    let Some(line) = text
        .lines()
        .find(|line| line.split_whitespace().next() == Some(device))
    else {
        return Ok(KernelRecord {
            state: String::from("idle"),
            ..KernelRecord::default()
        });
    };
    let field = |key| number_of(line, key).ok_or(format!("sys:quiesce line {line:?} lacks {key}"));
    Ok(KernelRecord {
        state: String::from(value_of(line, "state").unwrap_or("?")),
        generation: field("generation")?,
        confirmed: field("confirmed")?,
        files_at_quiesce: number_of(line, "files-at-quiesce"),
    })
}

/// dmad's `quiesce-checked OWNER GENERATION CONFIRMED VERDICT` for `device`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reclaim {
    /// Whose buffer it was.
    pub owner: u64,
    /// The device generation dmad saw.
    pub generation: u64,
    /// The confirmed generation dmad saw.
    pub confirmed: u64,
    /// `reused` or `quarantined`.
    pub verdict: String,
}

/// What dmad checked at its last release of a buffer of `device`; `None` before any.
pub fn last_reclaim(device: &str) -> Result<Option<Reclaim>, String> {
    let text = read_text(&crate::stats::path(device))
        .map_err(|error| format!("read dma:/{device}/stats: {}", errno_name(error.errno)))?;
    let line = text
        .lines()
        .find_map(|line| line.strip_prefix("quiesce-checked "))
        .ok_or(format!("dma:/{device}/stats has no quiesce-checked line"))?;
    let words: alloc::vec::Vec<&str> = line.split_whitespace().collect();
    let number = |index: usize| words.get(index).and_then(|word| word.parse().ok());
    match (number(0), number(1), number(2), words.get(3)) {
        (Some(owner), Some(generation), Some(confirmed), Some(verdict)) => Ok(Some(Reclaim {
            owner,
            generation,
            confirmed,
            verdict: String::from(*verdict),
        })),
        _ if line.trim() == "none" => Ok(None),
        _ => Err(format!("cannot read quiesce-checked {line:?}")),
    }
}

/// `quarantined-pages` of `device`'s pool now.
pub fn quarantined_pages(device: &str) -> Result<u64, String> {
    let text = read_text(&crate::stats::path(device))
        .map_err(|error| format!("read dma:/{device}/stats: {}", errno_name(error.errno)))?;
    number_of(&text, "quarantined-pages")
        .ok_or(format!("dma:/{device}/stats has no quarantined-pages line"))
}
