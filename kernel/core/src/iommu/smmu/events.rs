//! Event queue records: faults and configuration errors the SMMU reports.

use core::fmt;

/// An event record is 32 bytes: four little-endian 64-bit words.
pub const EVENT_BYTES: usize = 32;

/// The event types coherent names; others are kept by number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// F_UUT (0x01): unsupported upstream transaction.
    UnsupportedTransaction,
    /// C_BAD_STREAMID (0x02): stream id beyond the stream table.
    BadStreamId,
    /// F_STE_FETCH (0x03): the STE could not be read.
    StreamEntryFetch,
    /// C_BAD_STE (0x04): the STE is invalid or malformed.
    BadStreamEntry,
    /// F_STREAM_DISABLED (0x06).
    StreamDisabled,
    /// F_CD_FETCH (0x09): the context descriptor could not be read.
    ContextFetch,
    /// C_BAD_CD (0x0a): the context descriptor is invalid or malformed.
    BadContext,
    /// F_WALK_EABT (0x0b): a table walk hit an external abort.
    WalkAbort,
    /// F_TRANSLATION (0x10): no translation for the address.
    Translation,
    /// F_ADDR_SIZE (0x11): the output address is too wide.
    AddressSize,
    /// F_ACCESS (0x12): access flag fault.
    Access,
    /// F_PERMISSION (0x13): e.g. a write to a read-only page.
    Permission,
    /// Any other type, by number.
    Other(u8),
}

impl EventKind {
    /// The kind of type code `code`.
    pub const fn from_code(code: u8) -> Self {
        match code {
            0x01 => EventKind::UnsupportedTransaction,
            0x02 => EventKind::BadStreamId,
            0x03 => EventKind::StreamEntryFetch,
            0x04 => EventKind::BadStreamEntry,
            0x06 => EventKind::StreamDisabled,
            0x09 => EventKind::ContextFetch,
            0x0a => EventKind::BadContext,
            0x0b => EventKind::WalkAbort,
            0x10 => EventKind::Translation,
            0x11 => EventKind::AddressSize,
            0x12 => EventKind::Access,
            0x13 => EventKind::Permission,
            other => EventKind::Other(other),
        }
    }

    /// Whether the record carries the faulting address and direction (the F_* translation
    /// faults: 0x10 to 0x13, and F_WALK_EABT).
    pub const fn has_address(self) -> bool {
        matches!(
            self,
            EventKind::Translation
                | EventKind::AddressSize
                | EventKind::Access
                | EventKind::Permission
                | EventKind::WalkAbort
        )
    }
}

/// One decoded event record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The stream (PCI requester id) whose transaction caused it.
    pub stream: u32,
    /// The input address (IOVA), for kinds that carry one.
    pub address: Option<u64>,
    /// The transaction was a write (for kinds that carry an address).
    pub write: bool,
}

impl Event {
    /// Decodes a record.
    pub const fn decode(words: [u64; 4]) -> Self {
        let kind = EventKind::from_code(words[0] as u8);
        let has_address = kind.has_address();
        Event {
            kind,
            stream: (words[0] >> 32) as u32,
            address: if has_address { Some(words[2]) } else { None },
            // RnW, word 1 bit 35: 1 = read.
            write: has_address && words[1] & (1 << 35) == 0,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (bus, device, function) = (
            (self.stream >> 8) & 0xff,
            (self.stream >> 3) & 0x1f,
            self.stream & 7,
        );
        write!(
            formatter,
            "{:?} from stream {:#x} ({bus:02x}:{device:02x}.{function})",
            self.kind, self.stream
        )?;
        if let Some(address) = self.address {
            let direction = if self.write { "write" } else { "read" };
            write!(formatter, ": {direction} of {address:#x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn translation_fault_gives_stream_address_and_direction() {
        let read = Event::decode([(0x18 << 32) | 0x10, 1 << 35, 0xdead_b000, 0]);
        assert_eq!(read.kind, EventKind::Translation);
        assert_eq!(read.stream, 0x18);
        assert_eq!(read.address, Some(0xdead_b000));
        assert!(!read.write);
        let write = Event::decode([(0x18 << 32) | 0x13, 0, 0x1000, 0]);
        assert_eq!(write.kind, EventKind::Permission);
        assert!(write.write);
        assert_eq!(
            format!("{write}"),
            "Permission from stream 0x18 (00:03.0): write of 0x1000"
        );
    }

    #[test]
    fn configuration_errors_carry_no_address() {
        let bad = Event::decode([(0x20 << 32) | 0x04, 0, 0x1234, 0]);
        assert_eq!(bad.kind, EventKind::BadStreamEntry);
        assert_eq!(bad.address, None);
        assert!(!bad.write);
        assert_eq!(Event::decode([0x77, 0, 0, 0]).kind, EventKind::Other(0x77));
    }
}
