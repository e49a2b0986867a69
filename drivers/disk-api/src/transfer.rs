//! Which bytes a read or write moves, and the seek call.

use crate::{DiskError, MAX_TRANSFER, SECTOR_SIZE};

/// A checked transfer: `length` bytes at byte `offset` of the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// Byte offset on the disk; a sector multiple.
    pub offset: u64,
    /// Bytes to move; a sector multiple, at most [`MAX_TRANSFER`], never past the end.
    pub length: usize,
}

impl Transfer {
    /// The transfer a read (`write == false`) or write of `requested` bytes at `position`
    /// makes on a disk of `capacity` bytes: at most [`MAX_TRANSFER`] bytes, cut at the end
    /// of the disk. A read at the end moves nothing (end of file).
    ///
    /// # Errors
    ///
    /// [`DiskError::Invalid`] when `position` or `requested` is not a sector multiple or
    /// `position` is past the end; [`DiskError::NoSpace`] for a write at the end.
    pub fn check(
        position: u64,
        requested: usize,
        capacity: u64,
        write: bool,
    ) -> Result<Transfer, DiskError> {
        if !position.is_multiple_of(SECTOR_SIZE) || !(requested as u64).is_multiple_of(SECTOR_SIZE)
        {
            return Err(DiskError::Invalid);
        }
        if position > capacity {
            return Err(DiskError::Invalid);
        }
        let left = capacity - position;
        if write && left == 0 && requested > 0 {
            return Err(DiskError::NoSpace);
        }
        let length = (requested.min(MAX_TRANSFER) as u64).min(left) as usize;
        Ok(Transfer {
            offset: position,
            length,
        })
    }

    /// The first sector.
    pub fn sector(&self) -> u64 {
        self.offset / SECTOR_SIZE
    }
}

/// The seek call on a disk handle: the payload is the new position, 8 bytes little-endian;
/// the reply is the position now in effect, in the same form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seek {
    /// The new byte position.
    pub offset: u64,
}

impl Seek {
    /// Bytes in the call's payload and in its reply.
    pub const SIZE: usize = 8;

    /// The payload.
    pub fn to_bytes(self) -> [u8; Self::SIZE] {
        self.offset.to_le_bytes()
    }

    /// Reads a payload and checks the position against a disk of `capacity` bytes.
    ///
    /// # Errors
    ///
    /// [`DiskError::Invalid`] for a payload of another size, an offset that is not a sector
    /// multiple, or one past the end.
    pub fn from_bytes(bytes: &[u8], capacity: u64) -> Result<Seek, DiskError> {
        let bytes: [u8; Self::SIZE] = bytes.try_into().map_err(|_| DiskError::Invalid)?;
        let offset = u64::from_le_bytes(bytes);
        if !offset.is_multiple_of(SECTOR_SIZE) || offset > capacity {
            return Err(DiskError::Invalid);
        }
        Ok(Seek { offset })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISK: u64 = 16 << 20;

    #[test]
    fn transfers_are_sector_aligned_and_bounded() {
        assert_eq!(
            Transfer::check(0, 512, DISK, false),
            Ok(Transfer {
                offset: 0,
                length: 512
            })
        );
        assert_eq!(Transfer::check(0, 65536, DISK, true).unwrap().length, 4096);
        assert_eq!(
            Transfer::check(1, 512, DISK, false),
            Err(DiskError::Invalid)
        );
        assert_eq!(
            Transfer::check(0, 100, DISK, false),
            Err(DiskError::Invalid)
        );
        assert_eq!(
            Transfer::check(DISK + 512, 512, DISK, false),
            Err(DiskError::Invalid)
        );
    }

    #[test]
    fn the_end_of_the_disk_cuts_transfers() {
        assert_eq!(Transfer::check(DISK, 512, DISK, false).unwrap().length, 0);
        assert_eq!(
            Transfer::check(DISK, 512, DISK, true),
            Err(DiskError::NoSpace)
        );
        let last = Transfer::check(DISK - 1024, 4096, DISK, true).unwrap();
        assert_eq!((last.length, last.sector()), (1024, DISK / 512 - 2));
    }

    #[test]
    fn seeks_round_trip_and_are_checked() {
        let seek = Seek { offset: 4096 };
        assert_eq!(Seek::from_bytes(&seek.to_bytes(), DISK), Ok(seek));
        assert_eq!(Seek::from_bytes(&[0; 4], DISK), Err(DiskError::Invalid));
        let odd = Seek { offset: 10 }.to_bytes();
        assert_eq!(Seek::from_bytes(&odd, DISK), Err(DiskError::Invalid));
        let far = Seek { offset: DISK + 512 }.to_bytes();
        assert_eq!(Seek::from_bytes(&far, DISK), Err(DiskError::Invalid));
    }
}
