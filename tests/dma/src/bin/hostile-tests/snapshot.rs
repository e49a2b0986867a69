//! What must be the same before and after an attack: the scheme servers, the processes,
//! the pool, the machine's frames, and dmad answering.

use alloc::format;
use alloc::string::String;
use dma_tests::text::read_text;
use dma_tests::{stats, DEVICE};
use process_tests::check::errno_name;
use process_tests::sys_memory;

/// What must be the same before and after an attack.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// `sys:schemes`: every scheme and its server (dmad's pid among them).
    pub schemes: String,
    /// The number of processes.
    pub processes: usize,
    /// The pool's free pages and live buffers.
    pub pool: stats::Stats,
    /// Free frames plus the pages every process owns.
    pub frames: u64,
    /// Whether dmad answered a request (`dma:/` read non-empty).
    pub dmad_answers: bool,
}

impl Snapshot {
    /// The system now.
    pub fn take() -> Result<Self, String> {
        let schemes = read("sys:schemes")?;
        let table = read("sys:processes")?;
        let free = sys_memory::free_pages()?;
        let mut processes = 0;
        let mut owned = 0;
        for line in table.lines().skip(1) {
            let Some(pages) = line.split_whitespace().last() else {
                continue;
            };
            processes += 1;
            owned += pages.parse::<u64>().unwrap_or(0);
        }
        Ok(Snapshot {
            schemes,
            processes,
            pool: stats::read(DEVICE)?,
            frames: free + owned,
            dmad_answers: read("dma:/").is_ok_and(|text| !text.is_empty()),
        })
    }
}

/// The text of `path`.
pub fn read(path: &str) -> Result<String, String> {
    read_text(path).map_err(|error| format!("read {path}: {}", errno_name(error.errno)))
}
