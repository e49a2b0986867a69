//! One submission/completion queue pair in `dma:` memory, driven one command at a time.
//!
//! Entries are written into the submission queue's write-combining mapping, then
//! `dma::write_barrier` drains the write-combining buffers before the tail doorbell rings. Completion
//! entries, which the device writes, are read with volatile loads, the phase word first.

use crate::bar::Bar;
use alloc::format;
use alloc::string::String;
use core::time::Duration;
use driver_kit::completion::Completions;
use nvme::command::{Command, Completion, COMPLETION_ENTRY_SIZE, SUBMISSION_ENTRY_SIZE};
use nvme::registers::Capabilities;
use nvme::ring::{CompletionRing, SubmissionRing};
use userlib::dma::{self, Dma};
use userlib::server::Requests;
use userlib::sys::Result;

/// Why a command did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// The controller answered with this status (`type << 8 | code`).
    Status(u16),
    /// No completion arrived in time.
    TimedOut,
    /// The submission queue had no free slot.
    QueueFull,
    /// The transfer's bytes could not be mapped for the device (this errno from userlib's
    /// streaming mapping: no bounce buffer).
    Mapping(i32),
}

impl core::fmt::Display for CommandError {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CommandError::Status(status) => write!(
                formatter,
                "status type {} code {:#04x}",
                status >> 8,
                status & 0xff
            ),
            CommandError::TimedOut => formatter.write_str("no completion in time"),
            CommandError::QueueFull => formatter.write_str("submission queue full"),
            CommandError::Mapping(errno) => {
                write!(formatter, "no streaming mapping (errno {errno})")
            }
        }
    }
}

/// A queue pair.
pub struct QueuePair {
    id: u16,
    entries: u16,
    submissions: Dma<[u8]>,
    completions: Dma<[u8]>,
    submission_ring: SubmissionRing,
    completion_ring: CompletionRing,
    submission_doorbell: usize,
    completion_doorbell: usize,
    next_identifier: u16,
}

impl QueuePair {
    /// Queue pair `id` of `entries` entries, its memory fresh from `device`'s pool.
    ///
    /// # Errors
    ///
    /// dmad's refusal.
    pub fn new(device: &str, id: u16, entries: u16, caps: &Capabilities) -> Result<QueuePair> {
        let entries_usize = usize::from(entries);
        Ok(QueuePair {
            id,
            entries,
            submissions: Dma::zeroed_slice(device, entries_usize * SUBMISSION_ENTRY_SIZE)?,
            completions: Dma::zeroed_slice(device, entries_usize * COMPLETION_ENTRY_SIZE)?,
            submission_ring: SubmissionRing::new(entries),
            completion_ring: CompletionRing::new(entries),
            submission_doorbell: caps.submission_doorbell(id),
            completion_doorbell: caps.completion_doorbell(id),
            next_identifier: 0,
        })
    }

    /// Entries per queue.
    pub fn entries(&self) -> u16 {
        self.entries
    }

    /// Device addresses of the submission and completion queues.
    pub fn addresses(&self) -> (u64, u64) {
        (self.submissions.dma_addr(), self.completions.dma_addr())
    }

    /// `queue NAME ADDRESS BYTES` lines for the driver's buffer list.
    pub fn describe(&self, name: &str) -> String {
        format!(
            "buffer {name}-submission {:#x} {}\nbuffer {name}-completion {:#x} {}\n",
            self.submissions.dma_addr(),
            self.submissions.len(),
            self.completions.dma_addr(),
            self.completions.len()
        )
    }

    /// Puts `command` in the submission queue and rings the doorbell; returns its identifier.
    ///
    /// # Errors
    ///
    /// [`CommandError::QueueFull`] when no slot is free.
    pub fn submit(
        &mut self,
        bar: &Bar,
        command: &Command,
    ) -> core::result::Result<u16, CommandError> {
        let identifier = self.next_identifier;
        self.next_identifier = self.next_identifier.wrapping_add(1);
        let (slot, tail) = self.submission_ring.push().ok_or(CommandError::QueueFull)?;
        let start = usize::from(slot) * SUBMISSION_ENTRY_SIZE;
        self.submissions[start..start + SUBMISSION_ENTRY_SIZE]
            .copy_from_slice(&command.to_bytes(identifier));
        // Drain write-combining buffers: the entry must be in memory before the doorbell.
        dma::write_barrier();
        bar.write32(self.submission_doorbell, u32::from(tail));
        Ok(identifier)
    }

    /// Submits `command` and waits (with `waiter`, stashing `requests` while serving) for
    /// its completion, at most `patience`. The completion is consumed and the head doorbell
    /// rung inside the wait, before the interrupt is acknowledged, so a level-triggered
    /// line (INTx) is deasserted when it is unmasked.
    ///
    /// # Errors
    ///
    /// The controller's status, no completion in time, or a full queue.
    pub fn execute(
        &mut self,
        bar: &Bar,
        waiter: &mut Completions,
        mut requests: Option<&mut Requests>,
        command: &Command,
        patience: Duration,
    ) -> core::result::Result<Completion, CommandError> {
        let identifier = self.submit(bar, command)?;
        loop {
            let mut found = None;
            waiter
                .wait(requests.as_deref_mut(), patience, &mut || {}, &mut || {
                    if found.is_some() {
                        return true;
                    }
                    let entry = read_completion(&self.completions, self.completion_ring.head());
                    if !self.completion_ring.is_new(entry.phase) {
                        return false;
                    }
                    let head = self.completion_ring.pop();
                    self.submission_ring.set_head(entry.submission_head);
                    bar.write32(self.completion_doorbell, u32::from(head));
                    found = Some(entry);
                    true
                })
                .map_err(|_| CommandError::TimedOut)?;
            let entry = found.ok_or(CommandError::TimedOut)?;
            if entry.identifier != identifier {
                log::warn!(
                    "queue {}: completion for command {} while waiting for {identifier}",
                    self.id,
                    entry.identifier
                );
                continue;
            }
            return if entry.succeeded() {
                Ok(entry)
            } else {
                Err(CommandError::Status(entry.status))
            };
        }
    }
}

/// The completion entry in `slot`, read with volatile loads (the device writes it).
fn read_completion(completions: &Dma<[u8]>, slot: u16) -> Completion {
    let start = usize::from(slot) * COMPLETION_ENTRY_SIZE;
    let entry = &completions[start..start + COMPLETION_ENTRY_SIZE];
    let mut bytes = [0u8; COMPLETION_ENTRY_SIZE];
    // The status/phase word last in memory, read first: once the phase says new, the rest
    // of the entry (written before it by the device) is read after it.
    for index in (0..COMPLETION_ENTRY_SIZE).rev() {
        // SAFETY: `entry[index]` is a byte of a live mapping this process owns; a volatile
        // read keeps the compiler from caching a value the device may change.
        bytes[index] = unsafe { core::ptr::read_volatile(&entry[index]) };
        if index == 12 {
            dma::read_barrier();
        }
    }
    Completion::decode(&bytes)
}
