//! The `bench:` scheme: a server that does nothing, so a client can time the round trip
//! through the kernel (client → server → client) and nothing else.
//!
//! An `OpenAt` of `pin/N` first pins the server to CPU N (`SYS_SET_AFFINITY`; an error
//! becomes the open's result), for `dmabench`'s cross-CPU null call. Otherwise every request
//! is answered from the request alone: `OpenAt` gets handle [`HANDLE`] (any
//! path), `Read`, `Write` and `Call` get result 0 and no payload, `Close` and `Munmap` (one-way
//! messages) get no answer, anything else `ENOSYS`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

use syscall::error::ENOSYS;
use syscall::schemev2::{Cqe, CqeOpcode, Opcode};

/// The scheme's name: clients open `bench:` (any path), the server registers `:bench`.
pub const SCHEME: &str = "bench";

/// The handle every `OpenAt` gets.
pub const HANDLE: u64 = 1;

/// The answer to request `tag` with opcode `opcode` (`schemev2::Opcode` as a number);
/// `None` for one-way requests.
pub fn answer(opcode: u8, tag: u32) -> Option<Cqe> {
    let result = match opcode {
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
        tag,
        result,
    })
}

/// The CPU an `OpenAt` of `pin/N` asks the server to pin itself to (`None` for any other
/// request or path).
pub fn pin_request(opcode: u8, path: &[u8]) -> Option<u32> {
    if opcode != Opcode::OpenAt as u8 {
        return None;
    }
    core::str::from_utf8(path.strip_prefix(b"pin/")?)
        .ok()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_at_once_with_the_request_tag() {
        let open = answer(Opcode::OpenAt as u8, 7).unwrap();
        assert_eq!((open.tag, open.result), (7, HANDLE));
        for opcode in [Opcode::Read, Opcode::Write, Opcode::Call] {
            let reply = answer(opcode as u8, 9).unwrap();
            assert_eq!((reply.tag, reply.result), (9, 0));
            assert_eq!(reply.flags, CqeOpcode::RespondRegular as u8);
        }
        let unknown = answer(Opcode::Fsync as u8, 3).unwrap();
        assert_eq!(unknown.result, (-i64::from(ENOSYS)) as u64);
    }

    #[test]
    fn pin_paths_name_a_cpu() {
        let open = Opcode::OpenAt as u8;
        assert_eq!(pin_request(open, b"pin/1"), Some(1));
        assert_eq!(pin_request(open, b"pin/x"), None);
        assert_eq!(pin_request(open, b""), None);
        assert_eq!(pin_request(Opcode::Call as u8, b"pin/1"), None);
    }

    #[test]
    fn one_way_requests_get_nothing() {
        assert!(answer(Opcode::Close as u8, 1).is_none());
        assert!(answer(Opcode::Munmap as u8, 1).is_none());
    }
}
