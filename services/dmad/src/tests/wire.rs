//! Messages on the socket, and the errno numbers agreeing with Redox's.

use crate::{Reply, Request};
use core::mem::size_of;
use dma_api::DmaError;
use syscall::schemev2::{Cqe, Opcode, Sqe};

#[test]
fn requests_read_from_messages() {
    let mut sqe = Sqe {
        opcode: Opcode::OpenAt as u8,
        tag: 77,
        args: [0, 5, 0, 0, 0, 0],
        caller: 42,
        ..Sqe::default()
    };
    let mut message = alloc::vec::Vec::from(&*sqe);
    message.extend_from_slice(b"blk0/junk");
    let request = Request::parse(&message).unwrap();
    let tag = request.tag;
    assert_eq!(
        (tag, request.caller, request.payload),
        (77, 42, &b"blk0/"[..])
    );
    sqe.opcode = Opcode::Read as u8;
    let request = Request::parse(&sqe).unwrap();
    assert!(request.payload.is_empty());
    assert!(Request::parse(&message[..size_of::<Sqe>() - 1]).is_none());
}

#[test]
fn replies_become_messages() {
    let message = Reply::bytes(alloc::vec![1, 2, 3]).to_message(9);
    let mut cqe = Cqe::default();
    cqe.copy_from_slice(&message[..size_of::<Cqe>()]);
    assert_eq!((cqe.tag, cqe.result), (9, 3));
    assert_eq!(&message[size_of::<Cqe>()..], [1, 2, 3]);
    let message = Reply::error(DmaError::OverQuota.errno()).to_message(1);
    cqe.copy_from_slice(&message[..size_of::<Cqe>()]);
    assert_eq!(
        syscall::Error::demux(cqe.result as usize),
        Err(syscall::Error::new(syscall::error::EDQUOT))
    );
}

#[test]
fn errno_numbers_are_redox_numbers() {
    use syscall::error::*;
    let redox = [
        ENOENT, EINVAL, ENOMEM, EACCES, EDQUOT, EBADF, EBUSY, EMFILE, ENFILE, EAGAIN,
    ];
    assert_eq!(DmaError::ALL.len(), redox.len());
    for (error, number) in DmaError::ALL.into_iter().zip(redox) {
        assert_eq!(error.errno(), number, "{error:?}");
    }
}
