//! `dma-holder COUNT exit|crash|device-exit`: holds `COUNT` buffers, then exits or dies of a
//! fault; `device-exit` first opens `device:DEVICE` (so it holds the device, which the
//! kernel quiesces when it exits) and then exits.
//!
//! It allocates `COUNT` buffers of one and two pages (alternately), maps every fifth and
//! writes to it, and checks that dmad's counts went down by exactly what it holds. Then,
//! without closing or unmapping anything, it returns from `main` with status 0 (`exit`) or
//! reads address 0 so the kernel kills it (`crash`): either way the kernel must close its
//! descriptors and unmap its mappings, and dmad must take every page back.
//!
//! A failed check exits [`FAILED_STATUS`] before the ending asked for, so the parent can
//! tell "held everything, then ended as asked" from anything else. Bad arguments exit
//! [`USAGE_STATUS`].
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use dma_tests::buffer::Buffer;
use dma_tests::stats::{self, Stats};
use dma_tests::{DEVICE, FAILED_STATUS, PAGE_SIZE, USAGE_STATUS};
use process_tests::check::errno_name;
use process_tests::probe;
use userlib::{println, Args};

userlib::entry!(main);

fn main(args: Args) -> i32 {
    let count: Option<usize> = args.get(1).and_then(|text| text.parse().ok());
    let (Some(count), Some(ending @ ("exit" | "crash" | "device-exit"))) = (count, args.get(2))
    else {
        println!("usage: dma-holder COUNT exit|crash|device-exit");
        return USAGE_STATUS;
    };
    if ending == "device-exit" {
        let path = alloc::format!("device:{DEVICE}");
        if let Err(error) = userlib::sys::open(&path, userlib::sys::flag::O_RDONLY) {
            println!("open {path} failed with {}", errno_name(error.errno));
            return FAILED_STATUS;
        }
    }
    if let Err(reason) = hold(count) {
        println!("{reason}");
        return FAILED_STATUS;
    }
    if ending == "crash" {
        // SAFETY: address 0 is never mapped; this process is meant to die of the read.
        core::hint::black_box(unsafe { probe::load(0) });
        println!("reading address 0 went through");
        return FAILED_STATUS;
    }
    0
}

/// Allocates and maps, then forgets every buffer and mapping, so nothing is released before
/// the process ends.
fn hold(count: usize) -> Result<(), alloc::string::String> {
    let before = stats::read(DEVICE)?;
    let mut buffers = Vec::with_capacity(count);
    let mut mappings = Vec::new();
    let mut pages = 0;
    for index in 0..count {
        let size = (1 + index % 2) * PAGE_SIZE;
        let buffer = Buffer::allocate(DEVICE, size).map_err(|error| {
            alloc::format!(
                "buffer {index}: alloc failed with {}",
                errno_name(error.errno)
            )
        })?;
        if index.is_multiple_of(5) {
            let mapping = buffer.map_all().map_err(|error| {
                alloc::format!(
                    "buffer {index}: fmap failed with {}",
                    errno_name(error.errno)
                )
            })?;
            mapping.fill(|word| word as u64 ^ 0xD0D0_D0D0);
            mappings.push(mapping);
        }
        pages += buffer.pages();
        buffers.push(buffer);
    }
    let expected = Stats {
        free_pages: before.free_pages.wrapping_sub(pages),
        live_buffers: before.live_buffers + count as u64,
    };
    let now = stats::read(DEVICE)?;
    if now != expected {
        return Err(alloc::format!(
            "holding {count} buffers ({pages} pages): the pool shows {now}, expected {expected}"
        ));
    }
    core::mem::forget(mappings);
    core::mem::forget(buffers);
    Ok(())
}
