//! `dmastat`: prints dmad's tables — `dma:/` and then each device's `dma:/DEV/stats` — to the
//! console, with a warning line for each device whose pool holds quarantined pages.
//! `dmastat --map DEVICE` instead draws the pool serving DEVICE as a grid of page states
//! (`dma:/DEV/map`: free, live, deferred, quarantined; one cell per page or per run of
//! pages, the scale printed above the grid).
//!
//! dmad may still be starting when dmastat runs (init starts them one after the other), so
//! dmastat retries opening `dma:/` for a while — but only while a process named `dmad` is
//! alive (`sys:processes`), so it does not linger on a system where dmad is absent or gave
//! up. If no `dma:` scheme appears it says so and exits with status 0: there is nothing to
//! show, and a system without dmad is not broken for it. Other failures exit with status 1.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use core::time::Duration;
use userlib::sys::{self, error::ENOENT};
use userlib::{println, time, Args};

userlib::entry!(main);

/// How many times dmastat tries `dma:/`, and how long it waits between tries.
const ATTEMPTS: u32 = 20;
const PAUSE: Duration = Duration::from_millis(100);

fn main(args: Args) -> i32 {
    if args.get(1) == Some("--map") {
        return match (args.get(2), args.get(3)) {
            (Some(device), None) => map(device),
            _ => {
                println!("usage: dmastat [--map DEVICE]");
                2
            }
        };
    }
    let mut attempt = 0;
    let root = loop {
        match sys::read_file("dma:/") {
            Ok(bytes) => break bytes,
            Err(_) if attempt + 1 < ATTEMPTS && dmad_is_alive() => {
                attempt += 1;
                let _ = time::sleep(PAUSE);
            }
            Err(error) if error.errno == ENOENT || !dmad_is_alive() => {
                println!("dmastat: no dma: scheme (is dmad running?)");
                return 0;
            }
            Err(error) => {
                println!("dmastat: cannot read dma:/: {error}");
                return 1;
            }
        }
    };
    let root = core::str::from_utf8(&root).unwrap_or("(not UTF-8)\n");
    println!("dma:/");
    for line in root.lines() {
        println!("{line}");
    }
    let mut status = 0;
    // The first line is the header; the second column of each other line is the device.
    for device in root
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().nth(1))
    {
        let path = format!("dma:/{device}/stats");
        match sys::read_file(&path) {
            Ok(bytes) => {
                println!();
                println!("{path}");
                let text = core::str::from_utf8(&bytes).unwrap_or("(not UTF-8)\n");
                for line in text.lines() {
                    println!("{line}");
                }
                report_quarantine(device, text);
            }
            Err(error) => {
                println!("dmastat: cannot read {path}: {error}");
                status = 1;
            }
        }
    }
    status
}

/// Prints `dma:/DEVICE/map`.
fn map(device: &str) -> i32 {
    let path = format!("dma:/{device}/map");
    match sys::read_file(&path) {
        Ok(bytes) => {
            for line in core::str::from_utf8(&bytes)
                .unwrap_or("(not UTF-8)\n")
                .lines()
            {
                println!("{line}");
            }
            0
        }
        Err(error) => {
            println!("dmastat: cannot read {path}: {error}");
            1
        }
    }
}

/// Says so when `device`'s pool holds quarantined pages: buffers of a dead driver whose
/// device the kernel could not confirm quiet, kept out of the pool until it can.
fn report_quarantine(device: &str, stats: &str) {
    let quarantined = stats
        .lines()
        .find_map(|line| line.strip_prefix("quarantined-pages "))
        .and_then(|pages| pages.trim().parse::<u64>().ok())
        .unwrap_or(0);
    if quarantined > 0 {
        println!(
            "dmastat: {device}: {quarantined} pages quarantined (device not confirmed quiet; never handed out until it is)"
        );
    }
}

/// Whether `sys:processes` lists a process named `dmad` that has not exited (columns
/// `pid parent name state pages`).
fn dmad_is_alive() -> bool {
    let Ok(table) = sys::read_file("sys:processes") else {
        return false;
    };
    let table = core::str::from_utf8(&table).unwrap_or("");
    table.lines().any(|line| {
        let mut columns = line.split_whitespace().skip(2);
        columns.next() == Some("dmad")
            && !columns
                .next()
                .is_some_and(|state| state.starts_with("Exited"))
    })
}
