//! Queue ring arithmetic: where the next submission goes, which completion is new.
//!
//! A submission ring of `N` entries is full when advancing the tail would meet the head
//! the controller last reported (one slot always stays empty). A completion ring's entries
//! are new while their phase tag equals the ring's expected phase, which starts at 1 and
//! flips each time the head wraps.

/// The driver's view of a submission queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubmissionRing {
    entries: u16,
    tail: u16,
    head: u16,
}

impl SubmissionRing {
    /// An empty ring of `entries` entries (at least 2).
    ///
    /// # Panics
    ///
    /// If `entries < 2`.
    pub fn new(entries: u16) -> Self {
        assert!(entries >= 2, "a queue has at least two entries");
        SubmissionRing {
            entries,
            tail: 0,
            head: 0,
        }
    }

    /// Whether no slot is free.
    pub fn is_full(&self) -> bool {
        (self.tail + 1) % self.entries == self.head
    }

    /// Takes the slot at the tail and advances it; returns the slot and the new tail (the
    /// doorbell value), or `None` when full.
    pub fn push(&mut self) -> Option<(u16, u16)> {
        if self.is_full() {
            return None;
        }
        let slot = self.tail;
        self.tail = (self.tail + 1) % self.entries;
        Some((slot, self.tail))
    }

    /// Records the head a completion reported; ignores a value outside the ring.
    pub fn set_head(&mut self, head: u16) {
        if head < self.entries {
            self.head = head;
        }
    }

    /// Entries submitted but not yet consumed by the controller.
    pub fn in_flight(&self) -> u16 {
        (self.tail + self.entries - self.head) % self.entries
    }
}

/// The driver's view of a completion queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompletionRing {
    entries: u16,
    head: u16,
    phase: bool,
}

impl CompletionRing {
    /// A fresh ring of `entries` entries (zeroed memory, expected phase 1).
    pub fn new(entries: u16) -> Self {
        CompletionRing {
            entries,
            head: 0,
            phase: true,
        }
    }

    /// The slot the next completion will be in.
    pub fn head(&self) -> u16 {
        self.head
    }

    /// Whether an entry with phase tag `phase` at the head is new.
    pub fn is_new(&self, phase: bool) -> bool {
        phase == self.phase
    }

    /// Consumes the head entry; returns the new head (the doorbell value).
    pub fn pop(&mut self) -> u16 {
        self.head += 1;
        if self.head == self.entries {
            self.head = 0;
            self.phase = !self.phase;
        }
        self.head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submission_ring_keeps_one_slot_free_and_wraps() {
        let mut ring = SubmissionRing::new(4);
        assert_eq!(ring.push(), Some((0, 1)));
        assert_eq!(ring.push(), Some((1, 2)));
        assert_eq!(ring.push(), Some((2, 3)));
        assert!(ring.is_full());
        assert_eq!(ring.push(), None);
        assert_eq!(ring.in_flight(), 3);
        ring.set_head(2);
        assert_eq!(ring.in_flight(), 1);
        assert_eq!(ring.push(), Some((3, 0)));
        assert_eq!(ring.push(), Some((0, 1)));
        assert!(ring.is_full());
        ring.set_head(9); // nonsense from a device: ignored
        assert!(ring.is_full());
    }

    #[test]
    fn a_completion_ring_flips_its_phase_on_wrap() {
        let mut ring = CompletionRing::new(2);
        assert!(ring.is_new(true) && !ring.is_new(false));
        assert_eq!(ring.pop(), 1);
        assert_eq!(ring.pop(), 0);
        assert!(ring.is_new(false) && !ring.is_new(true));
        assert_eq!(ring.head(), 0);
        ring.pop();
        ring.pop();
        assert!(ring.is_new(true));
    }

    #[test]
    #[should_panic]
    fn a_ring_of_one_entry_is_refused() {
        let _ = SubmissionRing::new(1);
    }
}
