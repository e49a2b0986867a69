//! Submission queue entries (64 bytes) and completion queue entries (16 bytes).
//!
//! An entry is built as sixteen little-endian dwords ([`Command::to_bytes`]); every command
//! uses PRPs (`PSDT = 0`) and no metadata.

/// Bytes in a submission queue entry.
pub const SUBMISSION_ENTRY_SIZE: usize = 64;
/// Bytes in a completion queue entry.
pub const COMPLETION_ENTRY_SIZE: usize = 16;

/// Admin command opcodes used by the driver.
pub mod admin {
    /// Delete I/O Submission Queue.
    pub const DELETE_IO_SUBMISSION_QUEUE: u8 = 0x00;
    /// Create I/O Submission Queue.
    pub const CREATE_IO_SUBMISSION_QUEUE: u8 = 0x01;
    /// Delete I/O Completion Queue.
    pub const DELETE_IO_COMPLETION_QUEUE: u8 = 0x04;
    /// Create I/O Completion Queue.
    pub const CREATE_IO_COMPLETION_QUEUE: u8 = 0x05;
    /// Identify.
    pub const IDENTIFY: u8 = 0x06;
    /// Set Features.
    pub const SET_FEATURES: u8 = 0x09;
}

/// NVM command set opcodes used by the driver.
pub mod nvm {
    /// Flush.
    pub const FLUSH: u8 = 0x00;
    /// Write.
    pub const WRITE: u8 = 0x01;
    /// Read.
    pub const READ: u8 = 0x02;
}

/// Identify's CNS values.
pub mod identify_structure {
    /// Identify Namespace (for the NSID).
    pub const NAMESPACE: u32 = 0x00;
    /// Identify Controller.
    pub const CONTROLLER: u32 = 0x01;
}

/// Feature identifier: Number of Queues.
pub const FEATURE_NUMBER_OF_QUEUES: u32 = 0x07;

/// A command before it gets its identifier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Command {
    /// The opcode.
    pub opcode: u8,
    /// The namespace (0 for most admin commands).
    pub namespace: u32,
    /// PRP entry 1: the first data page (with offset).
    pub prp1: u64,
    /// PRP entry 2: the second page, or the PRP list's address.
    pub prp2: u64,
    /// Command dwords 10..=15.
    pub dwords: [u32; 6],
}

impl Command {
    /// Identify: `structure` (a CNS value) of `namespace` into the page at `buffer`.
    pub fn identify(structure: u32, namespace: u32, buffer: u64) -> Command {
        Command {
            opcode: admin::IDENTIFY,
            namespace,
            prp1: buffer,
            dwords: [structure, 0, 0, 0, 0, 0],
            ..Command::default()
        }
    }

    /// Set Features, Number of Queues: ask for `pairs` I/O submission and completion queues.
    pub fn set_queue_count(pairs: u16) -> Command {
        let wanted = u32::from(pairs - 1);
        Command {
            opcode: admin::SET_FEATURES,
            dwords: [
                FEATURE_NUMBER_OF_QUEUES,
                wanted | (wanted << 16),
                0,
                0,
                0,
                0,
            ],
            ..Command::default()
        }
    }

    /// Create I/O Completion Queue `queue` of `entries` entries at `base` (physically
    /// contiguous), interrupts enabled on vector `vector`.
    pub fn create_completion_queue(queue: u16, entries: u16, base: u64, vector: u16) -> Command {
        const CONTIGUOUS: u32 = 1 << 0;
        const INTERRUPTS_ENABLED: u32 = 1 << 1;
        Command {
            opcode: admin::CREATE_IO_COMPLETION_QUEUE,
            prp1: base,
            dwords: [
                queue_size_and_id(queue, entries),
                CONTIGUOUS | INTERRUPTS_ENABLED | (u32::from(vector) << 16),
                0,
                0,
                0,
                0,
            ],
            ..Command::default()
        }
    }

    /// Create I/O Submission Queue `queue` of `entries` entries at `base`, completing on
    /// completion queue `completion_queue`.
    pub fn create_submission_queue(
        queue: u16,
        entries: u16,
        base: u64,
        completion_queue: u16,
    ) -> Command {
        const CONTIGUOUS: u32 = 1 << 0;
        Command {
            opcode: admin::CREATE_IO_SUBMISSION_QUEUE,
            prp1: base,
            dwords: [
                queue_size_and_id(queue, entries),
                CONTIGUOUS | (u32::from(completion_queue) << 16),
                0,
                0,
                0,
                0,
            ],
            ..Command::default()
        }
    }

    /// Delete I/O submission (`submission == true`) or completion queue `queue`.
    pub fn delete_queue(queue: u16, submission: bool) -> Command {
        Command {
            opcode: if submission {
                admin::DELETE_IO_SUBMISSION_QUEUE
            } else {
                admin::DELETE_IO_COMPLETION_QUEUE
            },
            dwords: [u32::from(queue), 0, 0, 0, 0, 0],
            ..Command::default()
        }
    }

    /// Read (`write == false`) or Write `blocks` logical blocks from `first` of `namespace`
    /// with the data pointer `(prp1, prp2)`.
    ///
    /// # Panics
    ///
    /// If `blocks` is 0 or above 65,536 (the field holds `blocks - 1` in 16 bits); callers
    /// check counts first.
    pub fn transfer(
        write: bool,
        namespace: u32,
        first: u64,
        blocks: u32,
        prp: (u64, u64),
    ) -> Command {
        assert!(
            (1..=0x1_0000).contains(&blocks),
            "{blocks} blocks in one command"
        );
        Command {
            opcode: if write { nvm::WRITE } else { nvm::READ },
            namespace,
            prp1: prp.0,
            prp2: prp.1,
            dwords: [first as u32, (first >> 32) as u32, blocks - 1, 0, 0, 0],
        }
    }

    /// Flush `namespace`'s volatile write cache.
    pub fn flush(namespace: u32) -> Command {
        Command {
            opcode: nvm::FLUSH,
            namespace,
            ..Command::default()
        }
    }

    /// The 64-byte entry with command identifier `identifier`.
    pub fn to_bytes(&self, identifier: u16) -> [u8; SUBMISSION_ENTRY_SIZE] {
        let mut dwords = [0u32; 16];
        dwords[0] = u32::from(self.opcode) | (u32::from(identifier) << 16);
        dwords[1] = self.namespace;
        dwords[6] = self.prp1 as u32;
        dwords[7] = (self.prp1 >> 32) as u32;
        dwords[8] = self.prp2 as u32;
        dwords[9] = (self.prp2 >> 32) as u32;
        dwords[10..16].copy_from_slice(&self.dwords);
        let mut bytes = [0u8; SUBMISSION_ENTRY_SIZE];
        for (chunk, dword) in bytes.chunks_exact_mut(4).zip(dwords) {
            chunk.copy_from_slice(&dword.to_le_bytes());
        }
        bytes
    }
}

fn queue_size_and_id(queue: u16, entries: u16) -> u32 {
    u32::from(queue) | (u32::from(entries - 1) << 16)
}

/// A completion queue entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// Command-specific result (dword 0).
    pub result: u32,
    /// The submission queue's head as the controller saw it.
    pub submission_head: u16,
    /// Which submission queue the command came from.
    pub submission_queue: u16,
    /// The command's identifier.
    pub identifier: u16,
    /// The phase tag.
    pub phase: bool,
    /// Status code type (bits 9..12 of the status field) and status code (bits 1..9):
    /// `(type << 8) | code`; 0 is success.
    pub status: u16,
}

impl Completion {
    /// Decodes a 16-byte entry.
    pub fn decode(bytes: &[u8; COMPLETION_ENTRY_SIZE]) -> Completion {
        let dword = |index: usize| {
            u32::from_le_bytes([
                bytes[index * 4],
                bytes[index * 4 + 1],
                bytes[index * 4 + 2],
                bytes[index * 4 + 3],
            ])
        };
        let (dword2, dword3) = (dword(2), dword(3));
        let status_field = (dword3 >> 16) as u16;
        Completion {
            result: dword(0),
            submission_head: dword2 as u16,
            submission_queue: (dword2 >> 16) as u16,
            identifier: dword3 as u16,
            phase: status_field & 1 == 1,
            status: ((status_field >> 9) & 0x7) << 8 | ((status_field >> 1) & 0xff),
        }
    }

    /// Whether the command succeeded.
    pub fn succeeded(&self) -> bool {
        self.status == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dword(bytes: &[u8], index: usize) -> u32 {
        u32::from_le_bytes(bytes[index * 4..index * 4 + 4].try_into().unwrap())
    }

    #[test]
    fn encodes_a_read_with_two_prps() {
        let command = Command::transfer(false, 1, 0x1_0000_0002, 8, (0x4000_1000, 0x4000_2000));
        let bytes = command.to_bytes(0x1234);
        assert_eq!(dword(&bytes, 0), 0x1234_0002);
        assert_eq!(dword(&bytes, 1), 1);
        assert_eq!((dword(&bytes, 6), dword(&bytes, 7)), (0x4000_1000, 0));
        assert_eq!(dword(&bytes, 8), 0x4000_2000);
        assert_eq!((dword(&bytes, 10), dword(&bytes, 11)), (2, 1));
        assert_eq!(dword(&bytes, 12), 7);
    }

    #[test]
    fn encodes_admin_commands() {
        let cq = Command::create_completion_queue(1, 64, 0x8000, 0).to_bytes(3);
        assert_eq!(dword(&cq, 0) & 0xff, 0x05);
        assert_eq!(dword(&cq, 10), 0x003f_0001);
        assert_eq!(dword(&cq, 11), 0b11);
        let sq = Command::create_submission_queue(1, 64, 0x9000, 1).to_bytes(4);
        assert_eq!(dword(&sq, 11), 0x0001_0001);
        assert_eq!(dword(&sq, 6), 0x9000);
        let identify = Command::identify(identify_structure::CONTROLLER, 0, 0x7000).to_bytes(5);
        assert_eq!(
            (dword(&identify, 0), dword(&identify, 10)),
            (0x0005_0006, 1)
        );
        let queues = Command::set_queue_count(1).to_bytes(6);
        assert_eq!((dword(&queues, 10), dword(&queues, 11)), (7, 0));
        assert_eq!(
            dword(&Command::delete_queue(1, true).to_bytes(7), 0),
            0x0007_0000
        );
    }

    #[test]
    #[should_panic]
    fn refuses_a_transfer_of_no_blocks() {
        let _ = Command::transfer(true, 1, 0, 0, (0, 0));
    }

    #[test]
    fn decodes_completions() {
        let mut bytes = [0u8; 16];
        bytes[0..4].copy_from_slice(&7u32.to_le_bytes());
        bytes[8..12].copy_from_slice(&0x0001_0005u32.to_le_bytes());
        // identifier 9, phase 1, success
        bytes[12..16].copy_from_slice(&0x0001_0009u32.to_le_bytes());
        let done = Completion::decode(&bytes);
        assert_eq!(
            (
                done.result,
                done.submission_head,
                done.submission_queue,
                done.identifier
            ),
            (7, 5, 1, 9)
        );
        assert!(done.phase && done.succeeded());
        // status code type 0, code 0x80 (LBA out of range), phase 0
        bytes[12..16].copy_from_slice(&((0x80u32 << 1) << 16 | 9).to_le_bytes());
        let failed = Completion::decode(&bytes);
        assert!(!failed.phase);
        assert_eq!(failed.status, 0x80);
        // type 1 (command specific), code 2
        bytes[12..16].copy_from_slice(&(((1u32 << 9) | (2 << 1)) << 16).to_le_bytes());
        assert_eq!(Completion::decode(&bytes).status, 0x102);
    }
}
