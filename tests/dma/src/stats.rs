//! dmad's statistics for one device's pool, from `dma:/DEV/stats`.
//!
//! The text is read for two keys, each followed by a decimal number wherever it appears:
//! `free-pages N` (pages of the pool no buffer holds) and `live-buffers N` (buffers handed
//! out and not yet released). Everything else in the file is ignored.
//!
//! Releases are asynchronous: a `close` (and a client's exit) reaches dmad as a one-way
//! `Close` it has not necessarily handled when the closing call returns. So a check that
//! the pool is back where it was polls ([`settle`]) rather than reading once.

use crate::text::{number_of, read_text};
use alloc::format;
use alloc::string::String;
use core::time::Duration;
use process_tests::check::errno_name;
use userlib::time;

/// The key of the free-page count.
pub const FREE_PAGES: &str = "free-pages";

/// The key of the live-buffer count.
pub const LIVE_BUFFERS: &str = "live-buffers";

/// How long [`settle`] waits for the pool to come back (TCG on aarch64 is slow).
pub const SETTLE_TIME: Duration = Duration::from_secs(5);

/// The two counts the suite compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Pages no buffer holds.
    pub free_pages: u64,
    /// Buffers handed out and not released.
    pub live_buffers: u64,
}

impl core::fmt::Display for Stats {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            formatter,
            "{FREE_PAGES} {}, {LIVE_BUFFERS} {}",
            self.free_pages, self.live_buffers
        )
    }
}

/// The path of `device`'s statistics.
pub fn path(device: &str) -> String {
    format!("dma:/{device}/stats")
}

/// Reads the counts out of a stats text.
pub fn parse(text: &str) -> Option<Stats> {
    Some(Stats {
        free_pages: number_of(text, FREE_PAGES)?,
        live_buffers: number_of(text, LIVE_BUFFERS)?,
    })
}

/// `device`'s counts now.
///
/// # Errors
///
/// A reason when the file cannot be read or lacks a key.
pub fn read(device: &str) -> Result<Stats, String> {
    let path = path(device);
    let text =
        read_text(&path).map_err(|error| format!("read {path}: {}", errno_name(error.errno)))?;
    parse(&text)
        .ok_or_else(|| format!("{path} lacks `{FREE_PAGES} N` or `{LIVE_BUFFERS} N`: {text:?}"))
}

/// Waits until `device`'s counts are `expected`, for at most [`SETTLE_TIME`].
///
/// # Errors
///
/// A reason naming `what` and the counts last seen when they never matched.
pub fn settle(device: &str, expected: Stats, what: &str) -> Result<(), String> {
    settle_until(device, what, &format!("{expected}"), |now| now == expected)
}

/// Waits until `device`'s free-page count is `free_pages` (whatever the buffer count).
///
/// # Errors
///
/// As [`settle`].
pub fn settle_free_pages(device: &str, free_pages: u64, what: &str) -> Result<(), String> {
    settle_until(device, what, &format!("{FREE_PAGES} {free_pages}"), |now| {
        now.free_pages == free_pages
    })
}

/// Waits until `device`'s counts satisfy `done` (described as `expected` in the reason),
/// for at most [`SETTLE_TIME`].
fn settle_until(
    device: &str,
    what: &str,
    expected: &str,
    done: impl Fn(Stats) -> bool,
) -> Result<(), String> {
    let start = time::monotonic().unwrap_or_default();
    loop {
        let now = read(device)?;
        if done(now) {
            return Ok(());
        }
        let elapsed = time::monotonic().unwrap_or_default().saturating_sub(start);
        if elapsed >= SETTLE_TIME {
            return Err(format!(
                "{what}: the pool shows {now}, expected {expected} (waited {elapsed:?})"
            ));
        }
        let _ = time::sleep(Duration::from_millis(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_counts() {
        let text = "device virtio-blk0\nsize-pages 2048\nfree-pages 2040\nlargest-free-run 1024\n\
                    live-buffers 5\n";
        let stats = parse(text).unwrap();
        assert_eq!(
            stats,
            Stats {
                free_pages: 2040,
                live_buffers: 5
            }
        );
        assert_eq!(stats.to_string(), "free-pages 2040, live-buffers 5");
        assert_eq!(
            parse("virtio-blk0 free-pages 1 live-buffers 0"),
            Some(Stats {
                free_pages: 1,
                live_buffers: 0
            })
        );
        assert_eq!(parse("free-pages 1\n"), None);
    }
}
