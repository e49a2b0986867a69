//! `bench-server`: registers `:bench` and answers every request at once (see the library),
//! so `dmabench` can time a scheme call round trip with no server work in it.
//!
//! Exits with status 1 if it cannot register the scheme or its socket fails; it never exits
//! otherwise.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use log::{error, info};
use userlib::sys::{self, flag::O_RDWR};
use userlib::Args;

userlib::entry!(main);

fn main(_args: Args) -> i32 {
    let socket = match sys::open(&format!(":{}", bench_server::SCHEME), O_RDWR) {
        Ok(socket) => socket,
        Err(error) => {
            error!("cannot register {}: {error}", bench_server::SCHEME);
            return 1;
        }
    };
    info!("serving {}:", bench_server::SCHEME);
    userlib::server::serve(socket, bench_server::SCHEME, |request| {
        let answer = bench_server::answer(request.opcode, request.tag);
        // `OpenAt` of `pin/N`: pin this server to CPU N first (dmabench's cross-CPU call).
        match bench_server::pin_request(request.opcode, request.payload) {
            Some(cpu) => {
                let pinned = 1u64
                    .checked_shl(cpu)
                    .ok_or(userlib::sys::Error::new(userlib::sys::error::EINVAL))
                    .and_then(userlib::thread::set_affinity);
                answer.map(|mut cqe| {
                    if let Err(error) = pinned {
                        cqe.result = (-i64::from(error.errno)) as u64;
                    }
                    cqe
                })
            }
            None => answer,
        }
    })
}
