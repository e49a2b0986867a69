//! Debug mode, on by default: poison checks on freed pages and leak reports at exit.
//!
//! **Poison** (the bookkeeping is `dma_pool`'s `poison.rs`). After every request dmad
//! drains the buffers the registry freed, fills their pages with [`POISON`] through its
//! mapping ([`PoolMemory::poison`]) and remembers who held each (the last
//! [`RECENT_FREES`] frees: pid and manifest section). An allocation has every poisoned
//! run it takes checked word by word ([`PoolMemory::check_poison`]) before it is zeroed.
//! A word that changed means something wrote the pages after they were freed — a device,
//! since no process maps them any more. dmad then logs one line:
//!
//! `poison: write after free in pool P (device D): pages PHYS..END (device address
//! DEV..DEVEND), first difference at offset +OFF (found WORD); last owner NAME (pid N)`
//!
//! counts it for the pool's device, and hands the buffer out zeroed all the same (see
//! `dma_pool`'s `poison.rs` for why not quarantine). `DEV/stats` shows `poison on|off`,
//! `poisoned-pages`, `poison-checked-pages`, `poison-skipped-pages`, `poison-violations N`
//! and `poison-last-violation OWNER-PID OWNER-NAME DEVICE-ADDRESS` (or `none`).
//!
//! **Leaks.** The kernel marks the `Close`s it sends for an exiting client
//! ([`CLOSE_AT_EXIT`](kernel_core::abi::CLOSE_AT_EXIT)). A buffer closed that way was still
//! held at exit: a leak. When the client's last handle is gone dmad logs, per device with
//! K > 0, `leak report: NAME (pid N) left K buffers, B bytes on DEVICE`, and keeps the
//! count: `DEV/stats` shows `leak-reports N` (reports about DEV since dmad started) and the
//! last [`RECENT_LEAKS`] as `leak PID NAME BUFFERS BYTES` lines, oldest first.
//!
//! The switch is [`Server::set_debug`]: dmad's `--debug=off` turns it off (the default
//! image and the test images leave it on). Everything here is bounded.

use super::Server;
use crate::PoolMemory;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use core::fmt::Write;
use dma_pool::{FreedRange, PoolId, POISON};
use log::{info, warn};

/// How many recent frees dmad remembers to name a write-after-free's last owner.
pub const RECENT_FREES: usize = 256;
/// How many leak reports per device `DEV/stats` lists.
pub const RECENT_LEAKS: usize = 8;
/// How many departed clients' names dmad remembers (for reports after they are gone).
const DEPARTED_NAMES: usize = 64;
/// The most clients whose exit dmad tallies at once (more exit than that between two
/// requests only if 256 do: the client table's limit).
const EXITING: usize = 256;

/// A freed buffer as dmad poisoned it (the owner's name is looked up when a report needs
/// it, so freeing allocates nothing).
#[derive(Clone, Copy, Debug)]
struct Freed {
    pool: PoolId,
    phys: u64,
    len: u64,
    pid: u32,
}

/// A check that failed, before it is reported.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mismatch {
    /// The poisoned run checked.
    pub(super) phys: u64,
    pub(super) len: u64,
    /// Bytes from `phys` to the first word that differed, and what it held.
    pub(super) offset: u64,
    pub(super) found: u64,
}

/// What a device's `DEV/stats` shows of debug mode.
#[derive(Clone, Debug, Default)]
struct DeviceRecord {
    violations: u64,
    /// (owner pid, owner name, device address) of the last violation.
    last_violation: Option<(u32, String, u64)>,
    leak_reports: u64,
    /// (pid, name, buffers, bytes), oldest first.
    leaks: VecDeque<(u32, String, u64, u64)>,
}

/// Debug mode's records.
#[derive(Clone, Debug, Default)]
pub(super) struct DebugRecords {
    pub(super) on: bool,
    frees: VecDeque<Freed>,
    devices: BTreeMap<String, DeviceRecord>,
    /// Per exiting client, per device: buffers and bytes it left.
    exiting: BTreeMap<u32, BTreeMap<String, (u64, u64)>>,
    departed: VecDeque<(u32, String)>,
}

impl Server {
    /// Turns debug mode (poison checks and leak reports) on or off. dmad turns it on at
    /// start-up unless started with `--debug=off`; a fresh `Server` has it off.
    pub fn set_debug(&mut self, on: bool) {
        self.debug.on = on;
        self.registry.set_poisoning(on);
    }

    /// Poisons every buffer freed since the last call, remembering its last owner.
    pub(super) fn poison_freed(&mut self, memory: &mut dyn PoolMemory) {
        if !self.debug.on {
            return;
        }
        let Server {
            registry,
            regions,
            debug,
            ..
        } = self;
        registry.drain_freed(|freed: &FreedRange| {
            let address = regions
                .address_of(freed.phys, freed.len)
                .expect("every pool lies in a region dmad mapped");
            memory.poison(address, freed.len);
            if debug.frees.len() == RECENT_FREES {
                debug.frees.pop_front();
            }
            debug.frees.push_back(Freed {
                pool: freed.pool,
                phys: freed.phys,
                len: freed.len,
                pid: freed.owner.0,
            });
        });
    }

    /// The manifest section of `pid` as dmad knows it: a client's, or a departed one's.
    fn name_of(&self, pid: u32) -> String {
        self.clients
            .get(&pid)
            .and_then(|client| client.name.clone())
            .or_else(|| {
                self.debug
                    .departed
                    .iter()
                    .rev()
                    .find(|(departed, _)| *departed == pid)
                    .map(|(_, name)| name.clone())
            })
            .unwrap_or_else(|| String::from("?"))
    }

    /// Reports the failed checks of an allocation from `pool`: one log line each, counted
    /// for the pool's device.
    pub(super) fn report_mismatches(&mut self, pool: PoolId, mismatches: &[Mismatch]) {
        let Some(pool) = self.registry.pool(pool) else {
            return;
        };
        for mismatch in mismatches {
            let phys = mismatch.phys + mismatch.offset;
            let owner = self
                .debug
                .frees
                .iter()
                .rev()
                .find(|freed| {
                    freed.pool == pool.id() && freed.phys <= phys && phys < freed.phys + freed.len
                })
                .map(|freed| (freed.pid, self.name_of(freed.pid)));
            let device_address = pool.device_base() + (mismatch.phys - pool.phys_base());
            let owner_text = match &owner {
                Some((pid, name)) => alloc::format!("{name} (pid {pid})"),
                None => String::from("unknown (freed too long ago)"),
            };
            warn!(
                "poison: write after free in pool {} (device {}): pages {:#x}..{:#x} (device address {:#x}..{:#x}), first difference at offset +{:#x} (found {:#x}, poison {POISON:#x}); last owner {owner_text}",
                pool.name(),
                pool.device(),
                mismatch.phys,
                mismatch.phys + mismatch.len,
                device_address,
                device_address + mismatch.len,
                mismatch.offset,
                mismatch.found,
            );
            let record = self
                .debug
                .devices
                .entry(String::from(pool.device()))
                .or_default();
            record.violations += 1;
            let (pid, name) = owner.unwrap_or((0, String::from("?")));
            record.last_violation = Some((pid, name, device_address + mismatch.offset));
        }
    }

    /// Counts a buffer of `bytes` on `device` that `pid` still held when it exited.
    pub(super) fn note_leak(&mut self, pid: u32, device: &str, bytes: u64) {
        if !self.debug.on
            || (self.debug.exiting.len() >= EXITING && !self.debug.exiting.contains_key(&pid))
        {
            return;
        }
        let tally = self
            .debug
            .exiting
            .entry(pid)
            .or_default()
            .entry(String::from(device))
            .or_insert((0, 0));
        tally.0 += 1;
        tally.1 += bytes;
    }

    /// `pid` is gone from dmad (its last handle closed): logs and records its leaks, and
    /// remembers its name for poison reports to come.
    pub(super) fn client_departed(&mut self, pid: u32) {
        let name = self
            .clients
            .get(&pid)
            .and_then(|client| client.name.clone());
        if let Some(name) = &name {
            if self.debug.departed.len() == DEPARTED_NAMES {
                self.debug.departed.pop_front();
            }
            self.debug.departed.push_back((pid, name.clone()));
        }
        let Some(leaks) = self.debug.exiting.remove(&pid) else {
            return;
        };
        let name = name.unwrap_or_else(|| String::from("?"));
        for (device, (buffers, bytes)) in leaks {
            info!(
                "leak report: {name} (pid {pid}) left {buffers} buffers, {bytes} bytes on {device}"
            );
            let record = self.debug.devices.entry(device).or_default();
            record.leak_reports += 1;
            if record.leaks.len() == RECENT_LEAKS {
                record.leaks.pop_front();
            }
            record.leaks.push_back((pid, name.clone(), buffers, bytes));
        }
    }

    /// Debug mode's `DEV/stats` lines for the pool serving `device` (its poison figures)
    /// and for `device` itself (leaks).
    pub(super) fn debug_lines(&self, pool: &dma_pool::Pool, device: &str) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "poison {}", if self.debug.on { "on" } else { "off" });
        let stats = pool.poison_stats().unwrap_or_default();
        let _ = writeln!(text, "poisoned-pages {}", stats.poisoned_pages);
        let _ = writeln!(text, "poison-checked-pages {}", stats.checked_pages);
        let _ = writeln!(text, "poison-skipped-pages {}", stats.skipped_pages);
        let empty = DeviceRecord::default();
        let pool_record = self.debug.devices.get(pool.device()).unwrap_or(&empty);
        let _ = writeln!(text, "poison-violations {}", pool_record.violations);
        match &pool_record.last_violation {
            Some((pid, name, address)) => {
                let _ = writeln!(text, "poison-last-violation {pid} {name} {address:#x}");
            }
            None => {
                let _ = writeln!(text, "poison-last-violation none");
            }
        }
        let record = self.debug.devices.get(device).unwrap_or(&empty);
        let _ = writeln!(text, "leak-reports {}", record.leak_reports);
        for (pid, name, buffers, bytes) in &record.leaks {
            let _ = writeln!(text, "leak {pid} {name} {buffers} {bytes}");
        }
        text
    }
}
