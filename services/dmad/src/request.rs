//! dmad's answer to one request, and the request type it answers (`userlib::server`'s, the
//! wire format every scheme server shares).

use alloc::vec::Vec;

pub use userlib::server::Request;

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
        userlib::server::reply(tag, self.result, &self.payload)
    }
}
