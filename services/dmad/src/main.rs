//! dmad, coherent's DMA memory server: serves the `dma:` scheme from the DMA regions the
//! kernel declared.
//!
//! Start-up, in order:
//! 1. read the grants (devices, quota) from `initfs:manifest.toml`;
//! 2. read `memory:pools`, map each region whole and write-combining (`fmap` of
//!    `memory:pool/NAME`), and declare its pools — one log line per pool;
//! 3. register the scheme (`open(":dma")`).
//!
//! Option: `--debug=off` turns debug mode off (poison checks of freed pages and leak reports
//! at a client's exit, `dmad::Server::set_debug`); it is on otherwise, as in the default
//! image and every test image.
//!
//! Then for ever: `userlib::server::serve` (the loop every scheme server shares) reads one
//! request, [`dmad::Server`] handles it, the loop writes the reply (none for the one-way
//! `Close` and `Munmap`). All decisions are in the library; this program only moves bytes.
//! Handle numbers start at dmad's pid shifted left 32 bits, so a restarted dmad never hands
//! out a number a client may still hold from its predecessor (see `system.rs`).
//!
//! If the kernel offers no `memory:` scheme or no user schemes (an older kernel), dmad says
//! so and exits with status 0: there is nothing to serve. Any other start-up failure exits
//! with status 1.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

extern crate alloc;

mod system;

userlib::entry!(serve);

/// On the host the program only builds (so `cargo build` of the workspace links); it runs
/// on coherent.
#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("dmad runs only on coherent");
    std::process::exit(1);
}

fn serve(args: userlib::Args) -> i32 {
    // Debug mode (poison checks, leak reports; `dmad::Server::set_debug`) is on unless the
    // manifest starts dmad with `--debug=off`.
    let debug = !(1..args.total()).any(|index| args.get(index) == Some("--debug=off"));
    system::run(debug)
}
