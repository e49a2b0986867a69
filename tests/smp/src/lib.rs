//! Helpers of the `smp` suite: which CPU this process runs on (`sys:cpu`) and every CPU's
//! counters (`sys:cpus`), parsed by pure functions the host tests reach.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// CPUs the xtask gives the `smp` suite's machine (`-smp 4`).
pub const EXPECTED_CPUS: usize = 4;

/// One row of `sys:cpus`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuCounters {
    /// The CPU's index.
    pub index: usize,
    /// Context switches.
    pub switches: u64,
    /// IPIs it received.
    pub ipis_received: u64,
    /// IPIs it sent.
    pub ipis_sent: u64,
    /// Shootdowns it started that reached another CPU.
    pub shootdowns: u64,
    /// Flushes it did for other CPUs' shootdowns.
    pub flushes: u64,
    /// Timer ticks.
    pub ticks: u64,
    /// Entries from user mode.
    pub user_entries: u64,
}

/// Parses `sys:cpus`: a header line, then `INDEX HWID SWITCHES IPIS-RECEIVED IPIS-SENT
/// SHOOTDOWNS FLUSHES TICKS USER-ENTRIES` per CPU.
pub fn parse_cpus(text: &str) -> Result<Vec<CpuCounters>, String> {
    let mut rows = Vec::new();
    for line in text.lines().skip(1).filter(|line| !line.trim().is_empty()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() != 9 {
            return Err(format!("sys:cpus row {line:?} has not 9 columns"));
        }
        let number = |index: usize| {
            words[index]
                .parse::<u64>()
                .map_err(|_| format!("sys:cpus row {line:?}: column {index} is no number"))
        };
        rows.push(CpuCounters {
            index: number(0)? as usize,
            switches: number(2)?,
            ipis_received: number(3)?,
            ipis_sent: number(4)?,
            shootdowns: number(5)?,
            flushes: number(6)?,
            ticks: number(7)?,
            user_entries: number(8)?,
        });
    }
    Ok(rows)
}

/// Parses `sys:cpu`: `cpu N`.
pub fn parse_cpu(text: &str) -> Option<usize> {
    text.trim().strip_prefix("cpu ")?.trim().parse().ok()
}

/// Reads `sys:cpus`.
#[cfg(not(test))]
pub fn cpus() -> Result<Vec<CpuCounters>, String> {
    let text = dma_tests::text::read_text("sys:cpus")
        .map_err(|error| format!("read sys:cpus: errno {}", error.errno))?;
    parse_cpus(&text)
}

/// The CPU this process runs on now (`sys:cpu`, made when it is opened).
#[cfg(not(test))]
pub fn current_cpu() -> Result<usize, String> {
    let text = dma_tests::text::read_text("sys:cpu")
        .map_err(|error| format!("read sys:cpu: errno {}", error.errno))?;
    parse_cpu(&text).ok_or_else(|| format!("sys:cpu says {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_and_refuses_short_ones() {
        let text = "cpu hardware-id switches ipis-received ipis-sent shootdowns flushes ticks \
                    user-entries\n0 0x0 10 2 3 4 5 6 7\n1 0x1 1 1 1 1 1 1 1\n";
        let rows = parse_cpus(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].switches, 10);
        assert_eq!(rows[0].user_entries, 7);
        assert_eq!(rows[1].index, 1);
        assert!(parse_cpus("header\n0 0x0 1 2\n").is_err());
    }

    #[test]
    fn parses_the_cpu_line() {
        assert_eq!(parse_cpu("cpu 3\n"), Some(3));
        assert_eq!(parse_cpu("cpus 3"), None);
    }
}
