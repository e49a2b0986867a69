//! `shell`: a prompt on the serial console.
//!
//! The shell holds the kernel's `console:` (its manifest section grants `console = true`;
//! nobody else may read the console), reads typed bytes, edits the line ([`shell::Editor`]:
//! echo, backspace), parses it ([`shell::parse`]) and runs the command, printing its answer
//! on the console. It waits (up to [`DEMO_WAIT`]) for the boot demo's programs to end
//! before its first prompt, so the prompt is not buried in their output.
//!
//! `run PROGRAM` starts the manifest section named PROGRAM with that section's rights; the
//! kernel refuses (`EPERM`) unless the shell's section lists it in `spawns`, so the shell
//! runs only what the image allows it. `poweroff` needs the `power` right.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

extern crate alloc;

mod program;

userlib::entry!(program::main);

/// On the host the program only builds (so `cargo build` of the workspace links); it runs
/// on coherent.
#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("shell runs only on coherent");
    std::process::exit(1);
}
