//! `dma-worker ID OPS [DIE]`: allocates and frees buffers while other workers do the same.
//!
//! With `DIE`, the worker crashes on purpose (a read of address 0) at operation `DIE`, holding
//! whatever buffers and mappings it has then: the stress suite's "random kill".
//!
//! `OPS` operations, each an allocation or a release chosen by a generator seeded with
//! `ID`, keeping at most [`MAX_LIVE`] buffers of 1, 2 or 3 (so 4) pages. Every new buffer
//! must be the size asked for rounded to a power of two, aligned to it, apart from this
//! worker's other buffers, and all zero; the worker then writes words naming itself, the
//! buffer and the word into it, and checks them all just before releasing it. Another
//! process writing into one of its buffers, or dmad handing the same pages out twice, shows
//! up as a wrong word. Some buffers are closed while still mapped and unmapped after.
//!
//! Exits 0 when every check passed, [`FAILED_STATUS`] at the first failure (with the reason
//! on the console), [`USAGE_STATUS`] on bad arguments.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use dma_tests::buffer::{overlaps, Buffer, Mapping};
use dma_tests::{DEVICE, FAILED_STATUS, PAGE_SIZE, USAGE_STATUS};
use process_tests::check::errno_name;
use userlib::{println, Args};

userlib::entry!(main);

/// The most buffers a worker holds at once.
const MAX_LIVE: usize = 8;

/// A buffer the worker holds: the buffer, its mapping and its serial number.
struct Held {
    buffer: Buffer,
    mapping: Mapping,
    serial: u64,
}

fn main(args: Args) -> i32 {
    let number = |index| {
        args.get(index)
            .and_then(|text: &str| text.parse::<u64>().ok())
    };
    let (Some(id), Some(operations)) = (number(1), number(2)) else {
        println!("usage: dma-worker ID OPS [DIE]");
        return USAGE_STATUS;
    };
    match work(id, operations, number(3)) {
        Ok(()) => 0,
        Err(reason) => {
            println!("worker {id}: {reason}");
            FAILED_STATUS
        }
    }
}

/// The word `index` of buffer `serial` of worker `id`.
fn pattern(id: u64, serial: u64, index: usize) -> u64 {
    (id << 56) | ((serial & 0xFF_FFFF) << 32) | index as u64
}

fn work(id: u64, operations: u64, die_at: Option<u64>) -> Result<(), String> {
    let mut random = XorShift(0x9E37_79B9_7F4A_7C15 ^ (id + 1).wrapping_mul(0x2545_F491));
    let mut held: Vec<Held> = Vec::with_capacity(MAX_LIVE);
    for serial in 0..operations {
        if die_at == Some(serial) {
            // SAFETY: not safe, on purpose: address 0 is never mapped, so this read faults
            // and the kernel kills the worker with its buffers still held and mapped.
            let _ = unsafe { core::ptr::read_volatile(core::ptr::null::<u64>()) };
        }
        let allocate =
            held.is_empty() || (held.len() < MAX_LIVE && random.next().is_multiple_of(2));
        if allocate {
            let pages = 1 + (random.next() % 3) as usize;
            held.push(allocate_checked(id, serial, pages, &held)?);
        } else {
            let index = (random.next() % held.len() as u64) as usize;
            release_checked(id, held.swap_remove(index))?;
        }
    }
    for buffer in held {
        release_checked(id, buffer)?;
    }
    Ok(())
}

/// Allocates `pages` pages and checks the buffer before writing this worker's pattern.
fn allocate_checked(id: u64, serial: u64, pages: usize, held: &[Held]) -> Result<Held, String> {
    let buffer = Buffer::allocate(DEVICE, pages * PAGE_SIZE)
        .map_err(|error| format!("alloc of {pages} pages: {}", errno_name(error.errno)))?;
    let info = buffer.info();
    let expected_size = (pages.next_power_of_two() * PAGE_SIZE) as u64;
    if info.size != expected_size || !info.device_address.is_multiple_of(expected_size) {
        return Err(format!(
            "alloc of {pages} pages gave {info:?}: expected {expected_size} bytes aligned to their size"
        ));
    }
    if let Some(other) = held
        .iter()
        .find(|other| overlaps(&other.buffer.range(), &buffer.range()))
    {
        return Err(format!(
            "buffer {:?} overlaps buffer {:?}, which this worker still holds",
            buffer.range(),
            other.buffer.range()
        ));
    }
    let mapping = buffer
        .map_all()
        .map_err(|error| format!("fmap of {:?}: {}", buffer.range(), errno_name(error.errno)))?;
    mapping.expect(&format!("new buffer {:?}", buffer.range()), |_| 0)?;
    mapping.fill(|index| pattern(id, serial, index));
    Ok(Held {
        buffer,
        mapping,
        serial,
    })
}

/// Checks the pattern, then unmaps and closes (or, for every fourth buffer, closes first).
fn release_checked(id: u64, held: Held) -> Result<(), String> {
    let Held {
        buffer,
        mapping,
        serial,
    } = held;
    let what = format!("buffer {:?} (serial {serial})", buffer.range());
    mapping.expect(&what, |index| pattern(id, serial, index))?;
    let (unmapped, closed) = if serial.is_multiple_of(4) {
        let closed = buffer.close();
        (mapping.unmap(), closed)
    } else {
        let unmapped = mapping.unmap();
        (unmapped, buffer.close())
    };
    unmapped.map_err(|error| format!("funmap of {what}: {}", errno_name(error.errno)))?;
    closed.map_err(|error| format!("close of {what}: {}", errno_name(error.errno)))?;
    Ok(())
}

/// Marsaglia's xorshift64: cheap, deterministic per seed, good enough to mix operations.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
