//! `bench-server`: registers `:bench` and answers every request at once (see the library),
//! so `dmabench` can time a scheme call round trip with no server work in it.
//!
//! Exits with status 1 if it cannot register the scheme or its socket fails; it never exits
//! otherwise.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::vec;
use core::mem::size_of;
use log::{error, info};
use userlib::sys::abi::SCHEME_MAX_PAYLOAD;
use userlib::sys::error::EINTR;
use userlib::sys::{self, flag::O_RDWR};
use userlib::syscall::schemev2::Sqe;
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
    let mut buffer = vec![0u8; size_of::<Sqe>() + SCHEME_MAX_PAYLOAD];
    loop {
        let length = match sys::read(socket, &mut buffer) {
            Ok(length) => length,
            Err(error) if error.errno == EINTR => continue,
            Err(error) => {
                error!("reading requests failed: {error}");
                return 1;
            }
        };
        if let Some(reply) = bench_server::answer(&buffer[..length]) {
            if let Err(error) = sys::write(socket, &reply) {
                error!("cannot answer: {error}");
            }
        }
    }
}
