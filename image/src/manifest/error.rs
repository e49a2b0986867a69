//! Why a manifest was rejected, and on which line.

use core::fmt;

/// A manifest that failed to parse or failed the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManifestError {
    /// The 1-based line of the problem; 0 when it concerns the whole text (e.g. a missing
    /// `[image]` section).
    pub line: usize,
    /// What is wrong, in a few English words.
    pub reason: &'static str,
}

impl ManifestError {
    /// An error on `line` for `reason`.
    pub const fn new(line: usize, reason: &'static str) -> Self {
        Self { line, reason }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(formatter, "manifest: {}", self.reason)
        } else {
            write!(formatter, "manifest line {}: {}", self.line, self.reason)
        }
    }
}
