//! One interrupt line's state as a driver process sees it: who holds it, how many times it
//! fired, whether it waits for acknowledgement, whether it is masked. Pure, so the rules
//! (masked from firing until acknowledged, one holder, an unacknowledged interrupt kept for
//! the next holder) are tested on the host; the kernel applies [`LineState::masked`] to the
//! hardware after every step.

/// Someone else holds the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy;

/// A line's state. A new line is masked and unheld.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineState {
    holder: Option<u32>,
    count: u64,
    unacknowledged: bool,
    reported: bool,
    masked: bool,
}

impl Default for LineState {
    fn default() -> Self {
        Self::new()
    }
}

impl LineState {
    /// A masked, unheld line that never fired.
    pub const fn new() -> Self {
        LineState {
            holder: None,
            count: 0,
            unacknowledged: false,
            reported: false,
            masked: true,
        }
    }

    /// `holder` takes the line. It is unmasked unless an interrupt is still unacknowledged
    /// (then it stays masked and the holder's first [`LineState::take`] reports it).
    pub fn open(&mut self, holder: u32) -> Result<(), Busy> {
        if self.holder.is_some() {
            return Err(Busy);
        }
        self.holder = Some(holder);
        self.reported = false;
        self.masked = self.unacknowledged;
        Ok(())
    }

    /// The interrupt fired: masked, counted, unacknowledged. Returns the holder to wake.
    pub fn fire(&mut self) -> Option<u32> {
        self.masked = true;
        self.count += 1;
        self.unacknowledged = true;
        self.reported = false;
        self.holder
    }

    /// `read`: the count, once per interrupt; `None` when there is nothing to report.
    pub fn take(&mut self) -> Option<u64> {
        if !self.ready() {
            return None;
        }
        self.reported = true;
        Some(self.count)
    }

    /// Whether [`LineState::take`] has something to report.
    pub fn ready(&self) -> bool {
        self.unacknowledged && !self.reported
    }

    /// `write`: the holder handled it; unmasked.
    pub fn acknowledge(&mut self) {
        self.unacknowledged = false;
        self.reported = false;
        self.masked = false;
    }

    /// The holder closed or died: masked and free; an unacknowledged interrupt stays for the
    /// next holder. Returns whether one does.
    pub fn release(&mut self) -> bool {
        self.masked = true;
        self.holder = None;
        self.reported = false;
        self.unacknowledged
    }

    /// The holding process.
    pub fn holder(&self) -> Option<u32> {
        self.holder
    }

    /// Interrupts fired since the line was connected.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether the line must be masked now.
    pub fn masked(&self) -> bool {
        self.masked
    }

    /// Whether an interrupt waits for acknowledgement.
    pub fn unacknowledged(&self) -> bool {
        self.unacknowledged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_from_firing_until_acknowledged_and_reported_once() {
        let mut line = LineState::new();
        assert!(line.masked());
        line.open(7).unwrap();
        assert!(!line.masked());
        assert_eq!(line.take(), None);
        assert_eq!(line.fire(), Some(7));
        assert!(line.masked());
        assert_eq!(line.take(), Some(1));
        assert_eq!(line.take(), None, "one read per interrupt");
        assert!(line.masked(), "still masked until acknowledged");
        line.acknowledge();
        assert!(!line.masked());
        assert_eq!(line.take(), None);
    }

    #[test]
    fn one_holder_at_a_time() {
        let mut line = LineState::new();
        line.open(1).unwrap();
        assert_eq!(line.open(2), Err(Busy));
        assert!(!line.release());
        assert!(line.masked(), "released lines are masked");
        line.open(2).unwrap();
        assert_eq!(line.holder(), Some(2));
    }

    #[test]
    fn a_dead_holders_interrupt_goes_to_the_next() {
        let mut line = LineState::new();
        line.open(1).unwrap();
        line.fire();
        assert_eq!(line.take(), Some(1));
        assert!(line.release(), "unacknowledged when released");
        assert!(line.masked() && line.unacknowledged());
        line.open(2).unwrap();
        assert!(line.masked(), "stays masked for the new holder");
        assert_eq!(line.take(), Some(1), "the new holder is told at once");
        line.acknowledge();
        assert!(!line.masked() && !line.unacknowledged());
    }

    #[test]
    fn fires_while_unheld_are_kept_and_counted() {
        let mut line = LineState::new();
        assert_eq!(line.fire(), None);
        line.fire();
        assert_eq!(line.count(), 2);
        line.open(3).unwrap();
        assert_eq!(line.take(), Some(2));
    }
}
