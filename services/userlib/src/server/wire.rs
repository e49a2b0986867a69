//! Scheme messages as the kernel delivers and takes them: an `Sqe` and its payload in, a
//! `Cqe` and its payload out (the convention is in `kernel_core::abi`).
//!
//! Shared by every scheme server ([`super::serve`]) and by host tests of their handlers.

use alloc::vec::Vec;
use core::mem::size_of;
use syscall::schemev2::{Cqe, CqeOpcode, Opcode, Sqe};

/// One request read from the scheme socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The request id the reply must carry.
    pub tag: u32,
    /// What is asked (`schemev2::Opcode` as a number).
    pub opcode: u8,
    /// The client's process id.
    pub caller: u64,
    /// The opcode's arguments; `args[0]` is the handle for all but `OpenAt`.
    pub args: [u64; 6],
    /// The path, write data or call input.
    pub payload: &'a [u8],
}

impl<'a> Request<'a> {
    /// Reads a message; `None` when it is shorter than an `Sqe`.
    pub fn parse(message: &'a [u8]) -> Option<Self> {
        let header = message.get(..size_of::<Sqe>())?;
        let mut sqe = Sqe::default();
        sqe.copy_from_slice(header);
        let rest = &message[size_of::<Sqe>()..];
        let carries_payload = [Opcode::Write, Opcode::Call, Opcode::OpenAt]
            .iter()
            .any(|opcode| *opcode as u8 == sqe.opcode);
        let length = if carries_payload {
            usize::try_from(sqe.args[1]).map_or(rest.len(), |length| length.min(rest.len()))
        } else {
            0
        };
        Some(Request {
            tag: sqe.tag,
            opcode: sqe.opcode,
            caller: sqe.caller,
            args: sqe.args,
            payload: &rest[..length],
        })
    }

    /// Whether the opcode is `opcode`.
    pub fn is(&self, opcode: Opcode) -> bool {
        self.opcode == opcode as u8
    }

    /// Whether no reply is expected (`Close`, `Munmap`).
    pub fn is_one_way(&self) -> bool {
        self.is(Opcode::Close) || self.is(Opcode::Munmap)
    }

    /// The handle the request is about (`args[0]`; meaningless for `OpenAt`).
    pub fn handle(&self) -> u64 {
        self.args[0]
    }
}

/// The reply message for request `tag`: `result` (a value or an errno) and `payload`.
pub fn reply(tag: u32, result: Result<u64, i32>, payload: &[u8]) -> Vec<u8> {
    let result = match result {
        Ok(value) => value,
        Err(errno) => (-i64::from(errno)) as u64,
    };
    let cqe = Cqe {
        flags: CqeOpcode::RespondRegular as u8,
        extra_raw: [0; 3],
        tag,
        result,
    };
    let mut message = Vec::with_capacity(size_of::<Cqe>() + payload.len());
    message.extend_from_slice(&cqe);
    message.extend_from_slice(payload);
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(opcode: Opcode, args: [u64; 6], payload: &[u8]) -> Vec<u8> {
        let sqe = Sqe {
            opcode: opcode as u8,
            tag: 9,
            args,
            caller: 4,
            ..Sqe::default()
        };
        let mut bytes = sqe.to_vec();
        bytes.extend_from_slice(payload);
        bytes
    }

    #[test]
    fn reads_requests_with_and_without_payloads() {
        let open = message(Opcode::OpenAt, [0, 4, 0, 0, 0, 0], b"size");
        let request = Request::parse(&open).unwrap();
        assert_eq!(
            (request.tag, request.caller, request.payload),
            (9, 4, &b"size"[..])
        );
        assert!(request.is(Opcode::OpenAt));
        let read = message(Opcode::Read, [3, 0, 512, 0, 0, 0], b"junk");
        assert_eq!(Request::parse(&read).unwrap().payload, b"");
        assert!(Request::parse(&[0; 4]).is_none());
        assert!(
            Request::parse(&message(Opcode::Close, [3, 0, 0, 0, 0, 0], b""))
                .unwrap()
                .is_one_way()
        );
    }

    #[test]
    fn replies_carry_errors_as_negative_numbers() {
        let bytes = reply(9, Err(22), b"");
        assert_eq!(bytes.len(), size_of::<Cqe>());
        assert_eq!(&bytes[8..16], &(-22i64 as u64).to_le_bytes());
        assert_eq!(&reply(1, Ok(2), b"ab")[size_of::<Cqe>()..], b"ab");
    }
}
