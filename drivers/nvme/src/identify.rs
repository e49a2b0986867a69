//! The parts of Identify Controller and Identify Namespace data the driver uses.

/// Bytes of an identify structure.
pub const IDENTIFY_SIZE: usize = 4096;

/// From Identify Controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Controller {
    /// PCI vendor ID.
    pub vendor: u16,
    /// Serial number (trimmed ASCII).
    pub serial: heapless_text::Text<20>,
    /// Model number (trimmed ASCII).
    pub model: heapless_text::Text<40>,
    /// Firmware revision (trimmed ASCII).
    pub firmware: heapless_text::Text<8>,
    /// Maximum data transfer size as a power of two of the minimum page size; 0 = no limit.
    pub max_transfer_log2: u8,
    /// Number of namespaces.
    pub namespaces: u32,
}

impl Controller {
    /// Reads the structure.
    pub fn parse(data: &[u8; IDENTIFY_SIZE]) -> Controller {
        Controller {
            vendor: u16::from_le_bytes([data[0], data[1]]),
            serial: heapless_text::Text::from_ascii(&data[4..24]),
            model: heapless_text::Text::from_ascii(&data[24..64]),
            firmware: heapless_text::Text::from_ascii(&data[64..72]),
            max_transfer_log2: data[77],
            namespaces: u32::from_le_bytes([data[516], data[517], data[518], data[519]]),
        }
    }

    /// The largest transfer in bytes for pages of `page_size`, if limited.
    pub fn max_transfer(&self, page_size: u64) -> Option<u64> {
        (self.max_transfer_log2 != 0).then(|| page_size << self.max_transfer_log2)
    }
}

/// From Identify Namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Namespace {
    /// Size in logical blocks (NSZE).
    pub blocks: u64,
    /// Bytes per logical block, from the format FLBAS selects.
    pub block_size: u64,
    /// Metadata bytes per block in that format (the driver needs 0).
    pub metadata: u16,
}

impl Namespace {
    /// Reads the structure; `None` when the selected format is out of range or its block
    /// size is not a power of two from 512 bytes to 64 KiB.
    pub fn parse(data: &[u8; IDENTIFY_SIZE]) -> Option<Namespace> {
        let blocks = u64::from_le_bytes(data[0..8].try_into().ok()?);
        let formats = usize::from(data[25]) + 1;
        let selected = usize::from(data[26] & 0xf);
        if selected >= formats {
            return None;
        }
        let format = &data[128 + 4 * selected..128 + 4 * selected + 4];
        let shift = format[2];
        if !(9..=16).contains(&shift) {
            return None;
        }
        Some(Namespace {
            blocks,
            block_size: 1 << shift,
            metadata: u16::from_le_bytes([format[0], format[1]]),
        })
    }

    /// Bytes in the namespace.
    pub fn bytes(&self) -> u64 {
        self.blocks.saturating_mul(self.block_size)
    }
}

/// Fixed-capacity text for identify strings (no allocation in the protocol crate).
pub mod heapless_text {
    use core::fmt;

    /// Up to `N` printable ASCII bytes.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub struct Text<const N: usize> {
        bytes: [u8; N],
        length: usize,
    }

    impl<const N: usize> Text<N> {
        /// The field's text: trailing spaces and NULs dropped, other non-printable bytes
        /// shown as `?`.
        pub fn from_ascii(field: &[u8]) -> Self {
            let mut bytes = [0u8; N];
            let length = field
                .iter()
                .rposition(|byte| *byte != b' ' && *byte != 0)
                .map_or(0, |last| (last + 1).min(N));
            for (to, from) in bytes.iter_mut().zip(&field[..length]) {
                *to = if from.is_ascii_graphic() || *from == b' ' {
                    *from
                } else {
                    b'?'
                };
            }
            Text { bytes, length }
        }

        /// The text.
        pub fn as_str(&self) -> &str {
            core::str::from_utf8(&self.bytes[..self.length]).unwrap_or("?")
        }
    }

    impl<const N: usize> fmt::Display for Text<N> {
        fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str(self.as_str())
        }
    }

    impl<const N: usize> fmt::Debug for Text<N> {
        fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(formatter, "{:?}", self.as_str())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_controller_data() {
        let mut data = [0u8; IDENTIFY_SIZE];
        data[0..2].copy_from_slice(&0x1b36u16.to_le_bytes());
        data[4..24].copy_from_slice(b"coherent0           ");
        data[24..64].copy_from_slice(b"QEMU NVMe Ctrl                          ");
        data[64..72].copy_from_slice(b"7.2.0   ");
        data[77] = 7;
        data[516] = 1;
        let controller = Controller::parse(&data);
        assert_eq!(controller.vendor, 0x1b36);
        assert_eq!(controller.serial.as_str(), "coherent0");
        assert_eq!(controller.model.as_str(), "QEMU NVMe Ctrl");
        assert_eq!(controller.firmware.as_str(), "7.2.0");
        assert_eq!(controller.namespaces, 1);
        assert_eq!(controller.max_transfer(4096), Some(512 * 1024));
    }

    #[test]
    fn reads_namespace_data() {
        let mut data = [0u8; IDENTIFY_SIZE];
        data[0..8].copy_from_slice(&32768u64.to_le_bytes());
        data[25] = 1; // two formats
        data[26] = 1; // the second selected
        data[128 + 2] = 9;
        data[132 + 2] = 12;
        let namespace = Namespace::parse(&data).unwrap();
        assert_eq!((namespace.blocks, namespace.block_size), (32768, 4096));
        assert_eq!(namespace.bytes(), 128 << 20);
        data[26] = 2; // beyond the formats
        assert_eq!(Namespace::parse(&data), None);
        data[26] = 0;
        data[130] = 3; // 8-byte blocks: nonsense
        assert_eq!(Namespace::parse(&data), None);
    }
}
