//! The debug console: one descriptor on the kernel's `debug:` scheme, a buffered writer, and
//! the `print!`/`println!` macros.
//!
//! The descriptor is opened on first use (`open("debug:", O_WRONLY)`); if that fails the
//! process falls back to descriptor 1. Output is gathered in a buffer and written in as few
//! `write` calls as possible — one per line when lines are short — so that text from
//! different processes interleaves by whole lines.

use crate::sys;
use core::fmt;
use core::sync::atomic::{AtomicUsize, Ordering};
use syscall::flag::O_WRONLY;

/// Marks the console descriptor as not opened yet.
const UNOPENED: usize = usize::MAX;

/// The descriptor used when `debug:` cannot be opened.
const FALLBACK: usize = 1;

static DEBUG: AtomicUsize = AtomicUsize::new(UNOPENED);

/// The console descriptor, opening `debug:` the first time.
pub fn descriptor() -> usize {
    let fd = DEBUG.load(Ordering::Relaxed);
    if fd != UNOPENED {
        return fd;
    }
    let opened = sys::open("debug:", O_WRONLY).unwrap_or(FALLBACK);
    match DEBUG.compare_exchange(UNOPENED, opened, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => opened,
        Err(earlier) => {
            // Someone opened it first; keep theirs.
            if opened != FALLBACK {
                let _ = sys::close(opened);
            }
            earlier
        }
    }
}

/// Writes all of `bytes` to `fd`, giving up silently on an error or a zero-length write
/// (there is nowhere to report a failing console).
pub fn write_all(fd: usize, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match sys::write(fd, bytes) {
            Ok(0) | Err(_) => return,
            Ok(written) => bytes = &bytes[written.min(bytes.len())..],
        }
    }
}

/// Size of a [`LineWriter`]'s buffer: longer text is written in several pieces.
pub const LINE_BUFFER: usize = 256;

/// Gathers formatted text and writes it to a descriptor when the buffer fills, on
/// [`LineWriter::flush`], and when dropped.
pub struct LineWriter {
    fd: usize,
    buffer: [u8; LINE_BUFFER],
    length: usize,
}

impl LineWriter {
    /// A writer to `fd`.
    pub fn new(fd: usize) -> Self {
        Self {
            fd,
            buffer: [0; LINE_BUFFER],
            length: 0,
        }
    }

    /// A writer to the debug console.
    pub fn console() -> Self {
        Self::new(descriptor())
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) {
        write_all(self.fd, &self.buffer[..self.length]);
        self.length = 0;
    }
}

impl fmt::Write for LineWriter {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut bytes = text.as_bytes();
        while !bytes.is_empty() {
            if self.length == LINE_BUFFER {
                self.flush();
            }
            let room = LINE_BUFFER - self.length;
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.buffer[self.length..self.length + now.len()].copy_from_slice(now);
            self.length += now.len();
            bytes = later;
        }
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Writes `arguments` to the debug console; what `print!` expands to.
pub fn print(arguments: fmt::Arguments) {
    let mut writer = LineWriter::console();
    // `LineWriter` itself never fails; a `Display` impl that does just cuts the text short.
    let _ = fmt::Write::write_fmt(&mut writer, arguments);
}

/// Prints to the debug console (the kernel's `debug:` scheme).
#[macro_export]
macro_rules! print {
    ($($argument:tt)*) => {
        $crate::console::print(::core::format_args!($($argument)*))
    };
}

/// Prints a line to the debug console (the kernel's `debug:` scheme).
#[macro_export]
macro_rules! println {
    () => {
        $crate::console::print(::core::format_args!("\n"))
    };
    ($($argument:tt)*) => {
        $crate::console::print(::core::format_args!("{}\n", ::core::format_args!($($argument)*)))
    };
}
