//! `bad-access MODE`: makes one memory access the kernel must refuse, so it is killed.
//!
//! Modes: `kernel-read`, `kernel-write` (the kernel's linear map), `null` (address 0),
//! `user-unmapped` (a user address nothing maps), `write-text` and `write-rodata` (its own
//! read-only image), `execute-data` (a return instruction in its own writable data), and
//! `read-address ADDRESS CANARY` (another process's address: killed, or reads something
//! other than `CANARY`).
//!
//! If the access goes through it exits with [`ACCESS_WENT_THROUGH`]; `read-address` exits 0
//! when it read something other than the canary. Bad arguments exit 2.
#![no_std]
#![no_main]

extern crate alloc;

use core::sync::atomic::AtomicU32;
use process_tests::probe::{self, KERNEL_ADDRESS, RETURN_INSTRUCTION, UNMAPPED_USER_ADDRESS};
use process_tests::{ACCESS_WENT_THROUGH, USAGE_STATUS};
use userlib::{println, Args};

userlib::entry!(main);

/// Read-only data of this program.
static READ_ONLY: [u64; 4] = [1, 2, 3, 4];

/// A return instruction in writable data (an atomic, so it is placed in `.data`).
static CODE_IN_DATA: AtomicU32 = AtomicU32::new(RETURN_INSTRUCTION);

fn main(args: Args) -> i32 {
    let Some(mode) = args.get(1) else {
        println!("usage: bad-access MODE");
        return USAGE_STATUS;
    };
    // SAFETY (all probes below): each access is one this process is meant to die of; if the
    // kernel lets it through, the probed memory is either not this program's (so nothing it
    // relies on changes) or its own read-only image, which it never reads after the write.
    match mode {
        "kernel-read" => {
            // SAFETY: see above.
            core::hint::black_box(unsafe { probe::load(KERNEL_ADDRESS) });
        }
        "kernel-write" => {
            // SAFETY: see above.
            unsafe { probe::store(KERNEL_ADDRESS, 0) };
        }
        "null" => {
            // SAFETY: see above.
            core::hint::black_box(unsafe { probe::load(0) });
        }
        "user-unmapped" => {
            // SAFETY: see above.
            core::hint::black_box(unsafe { probe::load(UNMAPPED_USER_ADDRESS) });
        }
        "write-text" => {
            // SAFETY: see above; `main`'s first word is never executed again.
            unsafe { probe::store(main as fn(Args) -> i32 as usize, 0) };
        }
        "write-rodata" => {
            // SAFETY: see above.
            unsafe { probe::store(READ_ONLY.as_ptr() as usize, 0) };
        }
        "execute-data" => {
            // SAFETY: the word holds one return instruction, so if it runs it just returns.
            unsafe { probe::call(CODE_IN_DATA.as_ptr() as usize) };
        }
        "read-address" => return read_other(&args),
        other => {
            println!("unknown mode {other:?}");
            return USAGE_STATUS;
        }
    }
    println!("{mode}: the access went through");
    ACCESS_WENT_THROUGH
}

/// `read-address ADDRESS CANARY`: reads another process's address in this address space.
fn read_other(args: &Args) -> i32 {
    let number = |index| {
        let text: &str = args.get(index)?;
        u64::from_str_radix(text.trim_start_matches("0x"), 16).ok()
    };
    let (Some(address), Some(canary)) = (number(2), number(3)) else {
        println!("usage: bad-access read-address HEX-ADDRESS HEX-CANARY");
        return USAGE_STATUS;
    };
    // SAFETY: a read; whatever this address holds in this process (if anything) is not
    // relied on.
    let value = unsafe { probe::load(address as usize) };
    if value == canary {
        println!("read the parent's canary {canary:#x} at {address:#x}");
        ACCESS_WENT_THROUGH
    } else {
        0
    }
}
