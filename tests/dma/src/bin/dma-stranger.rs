//! `dma-stranger [borrow FD | alloc DEVICE]`: a dmad client the image manifest grants nothing.
//!
//! - no arguments: asks dmad for one page of `virtio-blk0`; exits 0 when refused with
//!   `EACCES`, [`NOT_REFUSED_STATUS`] otherwise (closing whatever it got);
//! - `alloc DEVICE`: the same for `DEVICE`;
//! - `borrow FD`: uses descriptor number `FD`, which is a buffer in its parent and was never
//!   opened here: `read`, `fmap` and `close` must each fail with `EBADF`. Exits 0 when they
//!   did, [`NOT_REFUSED_STATUS`] otherwise.
//!
//! It opens nothing before its checks (not even the console), so its descriptor table is
//! empty and `FD` cannot be open in it by accident. Bad arguments exit [`USAGE_STATUS`].
#![no_std]
#![no_main]

extern crate alloc;

use dma_tests::buffer::{map_raw, Buffer};
use dma_tests::{DEVICE, NOT_REFUSED_STATUS, PAGE_SIZE, USAGE_STATUS};
use process_tests::check::errno_name;
use userlib::sys::error::{EACCES, EBADF};
use userlib::sys::{self, Result};
use userlib::{println, Args};

userlib::entry!(main);

fn main(args: Args) -> i32 {
    match (args.get(1), args.get(2)) {
        (None, _) => allocate(DEVICE),
        (Some("borrow"), Some(fd)) => match fd.parse() {
            Ok(fd) => borrow(fd),
            Err(_) => usage(),
        },
        (Some("alloc"), Some(device)) => allocate(device),
        _ => usage(),
    }
}

fn usage() -> i32 {
    println!("usage: dma-stranger [borrow FD | alloc DEVICE]");
    USAGE_STATUS
}

/// Asks for a buffer of `device` without a grant.
fn allocate(device: &str) -> i32 {
    match Buffer::allocate(device, PAGE_SIZE) {
        Err(error) if error.errno == EACCES => 0,
        Err(error) => {
            println!(
                "alloc of {device} without a grant: expected EACCES, got {}",
                errno_name(error.errno)
            );
            NOT_REFUSED_STATUS
        }
        Ok(buffer) => {
            println!(
                "alloc of {device} without a grant succeeded: {:?}",
                buffer.info()
            );
            NOT_REFUSED_STATUS
        }
    }
}

/// Uses a descriptor number that belongs to another process.
fn borrow(fd: usize) -> i32 {
    let mut bytes = [0u8; 24];
    let results: [(&str, Result<usize>); 3] = [
        ("read", sys::read(fd, &mut bytes)),
        ("fmap", map_raw(fd, 0, PAGE_SIZE)),
        ("close", sys::close(fd)),
    ];
    let mut status = 0;
    for (call, result) in results {
        match result {
            Err(error) if error.errno == EBADF => {}
            Err(error) => {
                println!(
                    "{call}({fd}): expected EBADF, got {}",
                    errno_name(error.errno)
                );
                status = NOT_REFUSED_STATUS;
            }
            Ok(value) => {
                println!("{call}({fd}) of the parent's descriptor succeeded ({value:#x})");
                status = NOT_REFUSED_STATUS;
            }
        }
    }
    status
}
