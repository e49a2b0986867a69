//! Reading the kernel's memory statistics from `sys:memory`.
//!
//! The file is text, one `key value` pair per line; this suite uses the `free-pages N` line
//! (frames in the general allocator not in use) and `shared-pages N` (frames mapped by more
//! than one address space).

use crate::check::errno_name;
use alloc::format;
use alloc::string::String;
use userlib::sys::{self, flag::O_RDONLY};

/// The kernel's memory statistics file.
pub const PATH: &str = "sys:memory";

/// Bytes of `sys:memory` read at most; a fixed buffer, so reading allocates nothing.
const LIMIT: usize = 2048;

/// The `free-pages` count now, read without touching the heap (so that reading it does not
/// itself change the count).
pub fn free_pages() -> Result<u64, String> {
    value("free-pages")
}

/// The `shared-pages` count now: frames mapped by more than one address space.
pub fn shared_pages() -> Result<u64, String> {
    value("shared-pages")
}

/// The number on line `key` of `sys:memory`, read without touching the heap.
fn value(key: &str) -> Result<u64, String> {
    let fd = sys::open(PATH, O_RDONLY)
        .map_err(|error| format!("open {PATH}: {}", errno_name(error.errno)))?;
    let mut buffer = [0u8; LIMIT];
    let mut length = 0;
    let result = loop {
        match sys::read(fd, &mut buffer[length..]) {
            Ok(0) => break Ok(()),
            Ok(count) => {
                length += count;
                if length == LIMIT {
                    break Ok(());
                }
            }
            Err(error) => break Err(format!("read {PATH}: {}", errno_name(error.errno))),
        }
    };
    let _ = sys::close(fd);
    result?;
    let text =
        core::str::from_utf8(&buffer[..length]).map_err(|_| format!("{PATH} is not UTF-8"))?;
    parse(text, key).ok_or_else(|| format!("{PATH} has no `{key} N` line: {text:?}"))
}

/// The number on the `free-pages N` line of `text`.
pub fn parse_free_pages(text: &str) -> Option<u64> {
    parse(text, "free-pages")
}

/// The number on the `KEY N` line of `text`.
pub fn parse(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next()? == key).then_some(())?;
        words.next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_free_pages_line() {
        let text = "total-pages 32768\nfree-pages 31000\nkernel-heap-bytes 4096\n";
        assert_eq!(parse_free_pages(text), Some(31000));
        assert_eq!(parse_free_pages("free-pages  7"), Some(7));
        assert_eq!(parse_free_pages("free-pages-dma 3\n"), None);
        assert_eq!(parse_free_pages("free-pages x\n"), None);
        assert_eq!(parse_free_pages(""), None);
    }
}
