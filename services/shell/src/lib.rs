//! The shell's pure parts: the line editor ([`editor`]) and the command parser
//! ([`command`]), tested on the host; the program (`main.rs`) only moves bytes between
//! them, the console and the system.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod command;
pub mod editor;

pub use command::{parse, Command, ParseError, HELP};
pub use editor::{Editor, Event};
