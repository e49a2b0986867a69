//! dmad, coherent's DMA memory server: serves the `dma:` scheme from the DMA regions the
//! kernel declared.
//!
//! Start-up, in order:
//! 1. read the grants (devices, quota) from `initfs:manifest.toml`;
//! 2. read `memory:pools`, map each region whole and write-combining (`fmap` of
//!    `memory:pool/NAME`), and declare its pools — one log line per pool;
//! 3. register the scheme (`open(":dma")`).
//!
//! Then for ever: read one request, let [`dmad::Server`] handle it, write the reply (none
//! for `Close`). All decisions are in the library; this file only moves bytes.
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

fn serve(_args: userlib::Args) -> i32 {
    system::run()
}
