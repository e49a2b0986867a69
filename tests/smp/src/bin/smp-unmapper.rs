//! `smp-unmapper MODE`: the `smp` suite's children for unmapping under a running thread.
//!
//! - `reader`: maps a one-page dmad buffer, writes its pattern, and starts a thread that
//!   reads the page in a loop, checking every read is that pattern (exit 3 at once if not:
//!   it saw another owner's data through a stale translation). Once the reader has looped
//!   a while, the main thread unmaps and closes the buffer (dmad may hand it out again at
//!   once) and waits: the reader must fault — the kernel kills the process — so exiting 0
//!   after the wait means the reader kept reading a page that was gone.
//! - `owner MS`: for `MS` milliseconds, allocates one-page buffers, fills each with its own
//!   pattern, checks it and lets it go: the next owner of the reader's page.
//! - `copier`: a thread opens a path stored in a mapped buffer in a loop (the kernel copies
//!   the path from user memory); the main thread unmaps the buffer; the copier's next open
//!   must fail with `EFAULT` (exit 0), never fault the kernel or kill the process.
#![no_std]
#![no_main]

extern crate alloc;

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;
use dma_tests::buffer::Buffer;
use dma_tests::DEVICE;
use userlib::sys::error::EFAULT;
use userlib::sys::{self, flag::O_RDONLY};
use userlib::{println, thread, time, Args};

userlib::entry!(main);

const PAGE: usize = 4096;
/// The reader's pattern and the next owner's.
const READER_PATTERN: u64 = 0x5EAD_E500_0000_0001;
const OWNER_PATTERN: u64 = 0x0E4E_0000_0000_0002;
/// Reads (or opens) before the main thread pulls the page away.
const LOOPS_BEFORE_UNMAP: usize = 2000;

static LOOPS: AtomicUsize = AtomicUsize::new(0);
static ADDRESS: AtomicU64 = AtomicU64::new(0);

fn main(args: Args) -> i32 {
    match args.get(1) {
        Some("reader") => reader(),
        Some("owner") => owner(
            args.get(2)
                .and_then(|text| text.parse().ok())
                .unwrap_or(1000),
        ),
        Some("copier") => copier(),
        _ => {
            println!("usage: smp-unmapper reader|owner MS|copier");
            2
        }
    }
}

fn wait_for_loops() -> bool {
    let start = time::monotonic().unwrap_or_default();
    while LOOPS.load(Ordering::Acquire) < LOOPS_BEFORE_UNMAP {
        if time::monotonic().unwrap_or_default().saturating_sub(start) > Duration::from_secs(20) {
            return false;
        }
        core::hint::spin_loop();
    }
    true
}

fn reader() -> i32 {
    let Ok(buffer) = Buffer::allocate(DEVICE, PAGE) else {
        return 10;
    };
    let Ok(mapping) = buffer.map_all() else {
        return 11;
    };
    mapping.fill(|_| READER_PATTERN);
    ADDRESS.store(mapping.address() as u64, Ordering::Release);
    let Ok(_reader) = thread::spawn(0, || {
        let word = ADDRESS.load(Ordering::Acquire) as *const u64;
        loop {
            // SAFETY: not safe once the main thread unmaps the page, on purpose: the read
            // must then fault and the kernel kill the process.
            let value = unsafe { word.read_volatile() };
            if value != READER_PATTERN {
                println!("reader saw {value:#x}");
                sys::exit(3);
            }
            LOOPS.fetch_add(1, Ordering::Release);
        }
    }) else {
        return 12;
    };
    if !wait_for_loops() {
        return 13;
    }
    if mapping.unmap().is_err() || buffer.close().is_err() {
        return 14;
    }
    let _ = time::sleep(Duration::from_millis(500));
    println!("reader still alive 500 ms after the unmap");
    0
}

fn owner(milliseconds: u64) -> i32 {
    let start = time::monotonic().unwrap_or_default();
    while time::monotonic().unwrap_or_default().saturating_sub(start)
        < Duration::from_millis(milliseconds)
    {
        let Ok(buffer) = Buffer::allocate(DEVICE, PAGE) else {
            continue;
        };
        let Ok(mapping) = buffer.map_all() else {
            return 21;
        };
        mapping.fill(|_| OWNER_PATTERN);
        if mapping.first_mismatch(|_| OWNER_PATTERN).is_some() {
            return 22;
        }
        if mapping.unmap().is_err() || buffer.close().is_err() {
            return 23;
        }
    }
    0
}

const PATH: &[u8] = b"sys:cpu";

fn copier() -> i32 {
    let Ok(buffer) = Buffer::allocate(DEVICE, PAGE) else {
        return 30;
    };
    let Ok(mapping) = buffer.map_all() else {
        return 31;
    };
    let address = mapping.address();
    // SAFETY: the mapping is one writable page; the path fits.
    unsafe { core::ptr::copy_nonoverlapping(PATH.as_ptr(), address as *mut u8, PATH.len()) };
    ADDRESS.store(address as u64, Ordering::Release);
    let Ok(copier) = thread::spawn(0, || {
        let address = ADDRESS.load(Ordering::Acquire) as *const u8;
        loop {
            // SAFETY: the thread never reads these bytes itself: only the kernel does, in
            // `open`, which must answer EFAULT once they are gone.
            let path = unsafe {
                core::str::from_utf8_unchecked(core::slice::from_raw_parts(address, PATH.len()))
            };
            match sys::open(path, O_RDONLY) {
                Ok(fd) => {
                    let _ = sys::close(fd);
                    LOOPS.fetch_add(1, Ordering::Release);
                }
                Err(error) => return error.errno as u32,
            }
        }
    }) else {
        return 32;
    };
    if !wait_for_loops() {
        return 33;
    }
    if mapping.unmap().is_err() {
        return 34;
    }
    match copier.join() {
        Ok(status) if status == EFAULT as u32 => 0,
        Ok(status) => {
            println!("the copier's open failed with errno {status}, not EFAULT");
            35
        }
        Err(_) => 36,
    }
}
