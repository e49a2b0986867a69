//! The bulk call: one device request of many sectors that moves no data through IPC.
//!
//! A `disk:` read or write moves at most [`crate::MAX_TRANSFER`] bytes (the kernel's
//! payload limit). A driver may also answer a call whose payload is a [`Bulk`] request:
//! it reads `count` sectors into its own DMA memory with one device request and answers
//! their [`digest`], or writes `count` sectors of [`crate::image::generation_byte`] content
//! for `generation` with one request. Tests and benchmarks use it to drive large
//! transfers (the NVMe driver's multi-page PRP lists). A driver without it refuses the
//! call with `EINVAL`, as any malformed call.

use crate::DiskError;

/// The most sectors one bulk request moves (128 KiB).
pub const MAX_BULK_SECTORS: u32 = 256;

/// What a bulk request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkKind {
    /// Read and answer the digest (8 bytes little-endian).
    ReadDigest,
    /// Write generated content; answers nothing.
    WriteGeneration(u16),
}

/// One bulk request: `count` sectors from `sector`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bulk {
    /// What to do.
    pub kind: BulkKind,
    /// The first sector.
    pub sector: u64,
    /// How many sectors, 1..=[`MAX_BULK_SECTORS`].
    pub count: u32,
}

/// The first payload bytes of a bulk call.
const MAGIC: [u8; 4] = *b"BULK";

impl Bulk {
    /// Bytes in the call's payload.
    pub const SIZE: usize = 20;

    /// The payload: `BULK`, kind (0 read, 1 write), generation (u16), count (u32), sector
    /// (u64), little-endian.
    pub fn to_bytes(self) -> [u8; Self::SIZE] {
        let mut bytes = [0u8; Self::SIZE];
        bytes[..4].copy_from_slice(&MAGIC);
        let (kind, generation) = match self.kind {
            BulkKind::ReadDigest => (0u16, 0u16),
            BulkKind::WriteGeneration(generation) => (1, generation),
        };
        bytes[4..6].copy_from_slice(&kind.to_le_bytes());
        bytes[6..8].copy_from_slice(&generation.to_le_bytes());
        bytes[8..12].copy_from_slice(&self.count.to_le_bytes());
        bytes[12..20].copy_from_slice(&self.sector.to_le_bytes());
        bytes
    }

    /// Whether `payload` is meant as a bulk call (its magic), right or wrong.
    pub fn is_bulk(payload: &[u8]) -> bool {
        payload.starts_with(&MAGIC)
    }

    /// Reads a payload and checks it against a disk of `sectors` sectors.
    ///
    /// # Errors
    ///
    /// [`DiskError::Invalid`] for a payload of another size or kind, a count of 0 or above
    /// [`MAX_BULK_SECTORS`], or sectors past the end of the disk.
    pub fn from_bytes(payload: &[u8], sectors: u64) -> Result<Bulk, DiskError> {
        let bytes: [u8; Self::SIZE] = payload.try_into().map_err(|_| DiskError::Invalid)?;
        if bytes[..4] != MAGIC {
            return Err(DiskError::Invalid);
        }
        let word = |range: core::ops::Range<usize>| {
            let mut value = [0u8; 8];
            value[..range.len()].copy_from_slice(&bytes[range]);
            u64::from_le_bytes(value)
        };
        let kind = match (word(4..6), word(6..8) as u16) {
            (0, 0) => BulkKind::ReadDigest,
            (1, generation) => BulkKind::WriteGeneration(generation),
            _ => return Err(DiskError::Invalid),
        };
        let count = word(8..12) as u32;
        let sector = word(12..20);
        let in_range = sector
            .checked_add(u64::from(count))
            .is_some_and(|end| end <= sectors);
        if count == 0 || count > MAX_BULK_SECTORS || !in_range {
            return Err(DiskError::Invalid);
        }
        Ok(Bulk {
            kind,
            sector,
            count,
        })
    }
}

/// The digest a bulk read answers: 64-bit FNV-1a of the bytes.
pub fn digest(bytes: &[u8]) -> u64 {
    let mut hash = Digest::default();
    bytes.iter().for_each(|byte| hash.push(*byte));
    hash.value()
}

/// [`digest`] fed one byte at a time, for a client that computes what it expects.
#[derive(Clone, Copy, Debug)]
pub struct Digest(u64);

impl Default for Digest {
    fn default() -> Self {
        Digest(0xcbf2_9ce4_8422_2325)
    }
}

impl Digest {
    /// Adds one byte.
    pub fn push(&mut self, byte: u8) {
        self.0 ^= u64::from(byte);
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
    }

    /// The digest so far.
    pub fn value(self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_requests_round_trip_and_are_checked() {
        let read = Bulk {
            kind: BulkKind::ReadDigest,
            sector: 100,
            count: 256,
        };
        assert_eq!(Bulk::from_bytes(&read.to_bytes(), 1000), Ok(read));
        let write = Bulk {
            kind: BulkKind::WriteGeneration(7),
            sector: 0,
            count: 1,
        };
        assert!(Bulk::is_bulk(&write.to_bytes()));
        assert_eq!(Bulk::from_bytes(&write.to_bytes(), 1), Ok(write));
        let past = Bulk {
            sector: 999,
            count: 2,
            ..read
        };
        assert_eq!(
            Bulk::from_bytes(&past.to_bytes(), 1000),
            Err(DiskError::Invalid)
        );
        let huge = Bulk { count: 257, ..read };
        assert_eq!(
            Bulk::from_bytes(&huge.to_bytes(), 1000),
            Err(DiskError::Invalid)
        );
        let wrapping = Bulk {
            sector: u64::MAX,
            count: 1,
            ..read
        };
        assert_eq!(
            Bulk::from_bytes(&wrapping.to_bytes(), 1000),
            Err(DiskError::Invalid)
        );
        assert_eq!(Bulk::from_bytes(b"BULK", 1000), Err(DiskError::Invalid));
    }

    #[test]
    fn the_digest_is_fnv1a() {
        assert_eq!(digest(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(digest(b"a"), 0xaf63_dc4c_8601_ec8c);
        let mut stepwise = Digest::default();
        b"coherent".iter().for_each(|byte| stepwise.push(*byte));
        assert_eq!(stepwise.value(), digest(b"coherent"));
    }
}
