//! `lender MODE`: a user-scheme server that lends one page of its own anonymous memory
//! through `fmap`, and the borrowers that test what becomes of a lent page.
//!
//! Modes:
//! - `serve`: registers `:lender`, maps one anonymous page filled with [`LENT_PATTERN`] and
//!   answers: `OpenAt` with handle 1, `MmapPrep` with that page's address (counting it;
//!   `Munmap` uncounts), `Write` of `count` with that count, `Write` of `closes` with how
//!   many `Close`s it has received, `Write` of `caller` after 30 ms with the request's caller
//!   pid (a slow answer, for the thread tests), `Write` of `unmap` by unmapping the page from itself, `Write` of `exit` by answering and exiting
//!   at once (the answer must still reach the client). It exits 0 then; 1 if it cannot register
//!   or map. A second page it keeps mapped shares the lent page's page table, so unmapping
//!   the lent one frees no table.
//! - `self-client`: registers `:lender`, starts a thread that opens `lender:self` (which
//!   nobody will answer: only this process serves it), and exits 5 from its first thread:
//!   the waiting thread must give up so the process ends (exit 5), rather than hang.
//! - `borrow-and-touch`: maps the lent page, checks it, asks the server to exit, waits until
//!   the scheme is gone and reads the page again: the kernel must have revoked the mapping,
//!   so it is killed. Exits [`ACCESS_WENT_THROUGH`] if the read went through, 1 on other
//!   failures.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use core::mem::size_of;
use core::time::Duration;
use process_tests::lending::{self, LENT_PATTERN, PAGE};
use process_tests::{ACCESS_WENT_THROUGH, USAGE_STATUS};
use userlib::sys::abi::SCHEME_MAX_PAYLOAD;
use userlib::sys::error::{EINTR, EINVAL, ENOENT, ENOSYS};
use userlib::sys::{self, flag::O_RDWR, Map, MapFlags};
use userlib::syscall::schemev2::{Cqe, CqeOpcode, Opcode, Sqe};
use userlib::{println, Args};

userlib::entry!(main);

fn main(args: Args) -> i32 {
    match args.get(1) {
        Some("serve") => serve(),
        Some("borrow-and-touch") => borrow_and_touch(),
        Some("self-client") => self_client(),
        _ => {
            println!("usage: lender serve | borrow-and-touch | self-client");
            USAGE_STATUS
        }
    }
}

fn serve() -> i32 {
    let socket = match sys::open(":lender", O_RDWR) {
        Ok(socket) => socket,
        Err(error) => {
            println!("lender: cannot register lender: {error}");
            return 1;
        }
    };
    let map = Map {
        offset: 0,
        size: PAGE,
        flags: MapFlags::PROT_READ | MapFlags::PROT_WRITE | MapFlags::MAP_PRIVATE,
        address: 0,
    };
    // SAFETY: fresh anonymous memory at an address the kernel chooses.
    let page = match unsafe { sys::fmap(usize::MAX, &map) } {
        Ok(page) => page,
        Err(error) => {
            println!("lender: cannot map its page: {error}");
            return 1;
        }
    };
    // SAFETY: the kernel just mapped `PAGE` writable bytes at `page` for this process.
    unsafe { core::ptr::write_bytes(page as *mut u8, LENT_PATTERN, PAGE) };
    // A second page, kept: it shares the lent page's last-level table, so unmapping the
    // lent page frees no table and the free-frame count shows exactly that page's fate.
    // SAFETY: as above.
    if let Err(error) = unsafe { sys::fmap(usize::MAX, &map) } {
        println!("lender: cannot map its second page: {error}");
        return 1;
    }
    let mut buffer = vec![0u8; size_of::<Sqe>() + SCHEME_MAX_PAYLOAD];
    // `MmapPrep`s answered minus `Munmap`s received: the mappings clients hold.
    let mut mapped: i64 = 0;
    // `Close`s received, for any handle.
    let mut closes: i64 = 0;
    loop {
        let length = match sys::read(socket, &mut buffer) {
            Ok(length) => length,
            Err(error) if error.errno == EINTR => continue,
            Err(error) => {
                println!("lender: reading requests failed: {error}");
                return 1;
            }
        };
        if length < size_of::<Sqe>() {
            continue;
        }
        let mut request = Sqe::default();
        request.copy_from_slice(&buffer[..size_of::<Sqe>()]);
        let payload = &buffer[size_of::<Sqe>()..length];
        let mut exit = false;
        let result: i64 = match request.opcode {
            opcode if opcode == Opcode::OpenAt as u8 => 1,
            opcode if opcode == Opcode::MmapPrep as u8 => {
                mapped += 1;
                page as i64
            }
            opcode if opcode == Opcode::Munmap as u8 => {
                mapped -= 1;
                continue;
            }
            opcode if opcode == Opcode::Write as u8 && payload == b"count" => mapped,
            opcode if opcode == Opcode::Write as u8 && payload == b"closes" => closes,
            opcode if opcode == Opcode::Write as u8 && payload == b"caller" => {
                let _ = userlib::time::sleep(Duration::from_millis(30));
                request.caller as i64
            }
            opcode if opcode == Opcode::Close as u8 => {
                closes += 1;
                continue;
            }
            opcode if opcode == Opcode::Write as u8 && payload == b"unmap" => {
                // SAFETY: the page is this process's own mapping, which it never reads again.
                match unsafe { sys::funmap(page, PAGE) } {
                    Ok(_) => payload.len() as i64,
                    Err(error) => -i64::from(error.errno),
                }
            }
            opcode if opcode == Opcode::Write as u8 && payload == b"exit" => {
                exit = true;
                payload.len() as i64
            }
            opcode if opcode == Opcode::Write as u8 => -i64::from(EINVAL),
            _ => -i64::from(ENOSYS),
        };
        let reply = Cqe {
            flags: CqeOpcode::RespondRegular as u8,
            extra_raw: [0; 3],
            tag: request.tag,
            result: result as u64,
        };
        if let Err(error) = sys::write(socket, &reply) {
            println!("lender: cannot answer: {error}");
        }
        if exit {
            return 0;
        }
    }
}

fn self_client() -> i32 {
    let Ok(_socket) = sys::open(":lender", O_RDWR) else {
        println!("lender: cannot register lender");
        return 1;
    };
    let client = userlib::thread::spawn(16 * 1024, || {
        let _ = sys::open("lender:self", O_RDWR);
        0
    });
    if client.is_err() {
        println!("lender: cannot start the client thread");
        return 1;
    }
    // Let the client thread block in its open first.
    let _ = userlib::time::sleep(Duration::from_millis(20));
    sys::exit(5)
}

fn borrow_and_touch() -> i32 {
    let (file, address) = match lending::open_and_map() {
        Ok(mapped) => mapped,
        Err(reason) => {
            println!("borrower: {reason}");
            return 1;
        }
    };
    if let Err(reason) = lending::check_pattern(address) {
        println!("borrower: before the server exited: {reason}");
        return 1;
    }
    if let Err(error) = sys::write(file, b"exit") {
        println!("borrower: asking the server to exit: {error}");
        return 1;
    }
    // The server is gone once its scheme is: the kernel revokes what it lent before it
    // unregisters the name.
    let mut gone = false;
    for _ in 0..500 {
        match sys::open("lender:page", O_RDWR) {
            Err(error) if error.errno == ENOENT => {
                gone = true;
                break;
            }
            Ok(other) => {
                let _ = sys::close(other);
            }
            Err(_) => {}
        }
        let _ = userlib::time::sleep(Duration::from_millis(10));
    }
    if !gone {
        println!("borrower: the server's scheme never went away");
        return 1;
    }
    // SAFETY: the probe this program exists for: the page was lent by a server that has
    // exited, so the kernel must have unmapped it and this read must kill us.
    let value = unsafe { (address as *const u8).read_volatile() };
    println!("borrower: read {value:#x} through a mapping its dead server lent");
    ACCESS_WENT_THROUGH
}
