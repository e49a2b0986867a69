//! The `bench:` scheme: a server that does nothing, so a client can time the round trip
//! through the kernel (client → server → client) and nothing else.
//!
//! Every request is answered from the request alone: `OpenAt` gets handle [`HANDLE`] (any
//! path), `Read`, `Write` and `Call` get result 0 and no payload, `Close` and `Munmap` (one-way
//! messages) get no answer, anything else `ENOSYS`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

use core::mem::size_of;
use syscall::error::ENOSYS;
use syscall::schemev2::{Cqe, CqeOpcode, Opcode, Sqe};

/// The scheme's name: clients open `bench:` (any path), the server registers `:bench`.
pub const SCHEME: &str = "bench";

/// The handle every `OpenAt` gets.
pub const HANDLE: u64 = 1;

/// The answer to the request whose message starts `message` (an `Sqe`, then its payload);
/// `None` for a message too short to hold an `Sqe` and for one-way requests.
pub fn answer(message: &[u8]) -> Option<Cqe> {
    let header = message.get(..size_of::<Sqe>())?;
    let mut request = Sqe::default();
    request.copy_from_slice(header);
    let result = match request.opcode {
        opcode if opcode == Opcode::OpenAt as u8 => HANDLE,
        opcode
            if [Opcode::Read, Opcode::Write, Opcode::Call]
                .iter()
                .any(|known| *known as u8 == opcode) =>
        {
            0
        }
        opcode if opcode == Opcode::Close as u8 || opcode == Opcode::Munmap as u8 => return None,
        _ => (-i64::from(ENOSYS)) as u64,
    };
    Some(Cqe {
        flags: CqeOpcode::RespondRegular as u8,
        extra_raw: [0; 3],
        tag: request.tag,
        result,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(opcode: Opcode, tag: u32) -> Vec<u8> {
        let request = Sqe {
            opcode: opcode as u8,
            tag,
            ..Sqe::default()
        };
        let mut bytes = request.to_vec();
        bytes.extend_from_slice(b"payload");
        bytes
    }

    #[test]
    fn answers_at_once_with_the_request_tag() {
        let open = answer(&message(Opcode::OpenAt, 7)).unwrap();
        assert_eq!((open.tag, open.result), (7, HANDLE));
        for opcode in [Opcode::Read, Opcode::Write, Opcode::Call] {
            let reply = answer(&message(opcode, 9)).unwrap();
            assert_eq!((reply.tag, reply.result), (9, 0));
            assert_eq!(reply.flags, CqeOpcode::RespondRegular as u8);
        }
        let unknown = answer(&message(Opcode::Fsync, 3)).unwrap();
        assert_eq!(unknown.result, (-i64::from(ENOSYS)) as u64);
    }

    #[test]
    fn one_way_and_short_messages_get_nothing() {
        assert!(answer(&message(Opcode::Close, 1)).is_none());
        assert!(answer(&message(Opcode::Munmap, 1)).is_none());
        assert!(answer(&[0u8; 4]).is_none());
    }
}
