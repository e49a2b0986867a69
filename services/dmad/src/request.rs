//! Requests and replies on the scheme socket: an `Sqe` plus payload in, a `Cqe` plus payload
//! out (the wire convention of `kernel_core::abi::SCHEME_MAX_PAYLOAD`).

use alloc::vec::Vec;
use core::mem::size_of;
use syscall::schemev2::{Cqe, CqeOpcode, Opcode, Sqe};

/// One request, as the kernel sent it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The `Sqe` opcode (`redox_syscall::schemev2::Opcode` as a number).
    pub opcode: u8,
    /// The client's process id.
    pub caller: u64,
    /// The request's tag (the kernel answers for the caller's rights while it is pending).
    pub tag: u32,
    /// The opcode's arguments; `args[0]` is the handle for everything but `OpenAt`.
    pub args: [u64; 6],
    /// The path (`OpenAt`), written bytes (`Write`) or call input (`Call`).
    pub payload: &'a [u8],
}

impl<'a> Request<'a> {
    /// Reads one message from the socket: the `Sqe` and the payload after it (`args[1]`
    /// bytes, cut to what arrived). Returns the request and its tag; `None` if the message
    /// is shorter than an `Sqe`.
    pub fn from_message(message: &'a [u8]) -> Option<(u32, Self)> {
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
        Some((
            sqe.tag,
            Request {
                opcode: sqe.opcode,
                caller: sqe.caller,
                tag: sqe.tag,
                args: sqe.args,
                payload: &rest[..length],
            },
        ))
    }

    /// The handle the request is about (`args[0]`).
    pub fn handle(&self) -> u64 {
        self.args[0]
    }
}

/// The answer to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// A value, or the errno number refusing the request.
    pub result: Result<u64, i32>,
    /// Bytes for the client's buffer (`Read`, `Call`).
    pub payload: Vec<u8>,
}

impl Reply {
    /// A value with no payload.
    pub fn value(value: u64) -> Self {
        Reply {
            result: Ok(value),
            payload: Vec::new(),
        }
    }

    /// A payload; the result is its length.
    pub fn bytes(payload: Vec<u8>) -> Self {
        Reply {
            result: Ok(payload.len() as u64),
            payload,
        }
    }

    /// A refusal with `errno`.
    pub fn error(errno: i32) -> Self {
        Reply {
            result: Err(errno),
            payload: Vec::new(),
        }
    }

    /// The message to write to the socket: a `Cqe` for `tag` (result = value, or `-errno`)
    /// followed by the payload.
    pub fn to_message(&self, tag: u32) -> Vec<u8> {
        let result = match self.result {
            Ok(value) => value,
            Err(errno) => (-i64::from(errno)) as u64,
        };
        let cqe = Cqe {
            flags: CqeOpcode::RespondRegular as u8,
            extra_raw: [0; 3],
            tag,
            result,
        };
        let mut message = Vec::with_capacity(size_of::<Cqe>() + self.payload.len());
        message.extend_from_slice(&cqe);
        message.extend_from_slice(&self.payload);
        message
    }
}
