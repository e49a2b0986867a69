//! Reading the small text files of `dma:` and `sys:`, and finding `key value` pairs in them.

use alloc::string::String;
use userlib::sys::{self, flag::O_RDONLY, Result};

/// Bytes read at most: one `read`, the most a user scheme answers at once.
pub const LIMIT: usize = 4096;

/// Opens `path`, reads it with a single `read` of up to [`LIMIT`] bytes, and closes it.
///
/// One read, not a loop until end of file, so that a server which answers every read with
/// the whole text (ignoring the position) cannot make the reader loop forever.
///
/// # Errors
///
/// The failing `open` or `read`.
pub fn read_text(path: &str) -> Result<String> {
    let fd = sys::open(path, O_RDONLY)?;
    let mut buffer = [0u8; LIMIT];
    let read = sys::read(fd, &mut buffer);
    let _ = sys::close(fd);
    let length = read?;
    Ok(String::from_utf8_lossy(&buffer[..length.min(LIMIT)]).into_owned())
}

/// The word after the first word `key` in `text`, whatever the lines look like: `key value`
/// anywhere, `key: value` and `key=value` all count.
pub fn value_of<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let mut words = text.split_whitespace();
    while let Some(word) = words.next() {
        if let Some(value) = word
            .strip_prefix(key)
            .and_then(|rest| rest.strip_prefix('='))
        {
            return Some(value);
        }
        if word.strip_suffix(':').unwrap_or(word) == key {
            return words.next();
        }
    }
    None
}

/// A decimal or `0x` hexadecimal number.
pub fn number(text: &str) -> Option<u64> {
    let text = text.trim_end_matches(',');
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16).ok(),
        None => text.replace('_', "").parse().ok(),
    }
}

/// The number after the first `key` in `text` that is followed by a number (see
/// [`value_of`] and [`number`]); a table header naming the key as a column is skipped.
pub fn number_of(text: &str, key: &str) -> Option<u64> {
    let mut rest = text;
    while let Some(value) = value_of(rest, key) {
        if let Some(number) = number(value) {
            return Some(number);
        }
        let position = rest.find(key)? + key.len();
        rest = &rest[position..];
    }
    None
}

/// The pid serving `dma:` (dmad) as `sys:schemes` (`NAME PID` lines) names it.
///
/// # Errors
///
/// A reason when `sys:schemes` cannot be read or names no server for `dma`.
pub fn dmad_pid() -> core::result::Result<usize, String> {
    let schemes = read_text("sys:schemes").map_err(|error| {
        alloc::format!(
            "read sys:schemes: {}",
            process_tests::check::errno_name(error.errno)
        )
    })?;
    schemes
        .lines()
        .find_map(|line| line.strip_prefix("dma "))
        .and_then(|pid| pid.trim().parse().ok())
        .ok_or_else(|| alloc::format!("sys:schemes names no server for dma: {schemes:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_values_in_any_layout() {
        let text = "pool virtio-blk0\nfree-pages 2040 largest-free-run 1024\nlive-buffers: 3\n";
        assert_eq!(number_of(text, "free-pages"), Some(2040));
        assert_eq!(number_of(text, "live-buffers"), Some(3));
        assert_eq!(number_of(text, "largest-free-run"), Some(1024));
        assert_eq!(number_of("free-pages=17", "free-pages"), Some(17));
        assert_eq!(number_of("total 0x800", "total"), Some(2048));
        assert_eq!(value_of(text, "pool"), Some("virtio-blk0"));
    }

    #[test]
    fn skips_a_header_naming_the_key() {
        let text =
            "pool free-pages live-buffers\nvirtio-blk0 2048 0\n\nfree-pages 2048\nlive-buffers 0\n";
        assert_eq!(number_of(text, "free-pages"), Some(2048));
        assert_eq!(number_of(text, "live-buffers"), Some(0));
    }

    #[test]
    fn does_not_match_longer_keys_or_missing_values() {
        assert_eq!(number_of("free-pages-total 9\n", "free-pages"), None);
        assert_eq!(number_of("free-pages\n", "free-pages"), None);
        assert_eq!(number_of("free-pages many\n", "free-pages"), None);
        assert_eq!(number_of("", "free-pages"), None);
    }
}
