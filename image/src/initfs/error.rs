//! Why an initfs archive was rejected, and where.

use core::fmt;

/// An archive that failed validation: what was wrong and the byte offset where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitfsError {
    /// Offset, in bytes from the start of the archive, of the header, field, name or data that
    /// is wrong.
    pub offset: usize,
    /// What is wrong there.
    pub kind: InitfsErrorKind,
}

/// The ways an initfs archive can be malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitfsErrorKind {
    /// A header does not start with the newc magic `070701`.
    BadMagic,
    /// The archive ends inside a 110-byte header.
    TruncatedHeader,
    /// A header field holds something other than eight hexadecimal digits.
    NotHexadecimal,
    /// The archive ends inside an entry's name.
    TruncatedName,
    /// An entry's name is empty, lacks its terminating NUL, holds an inner NUL or is not UTF-8.
    BadName,
    /// The archive ends inside an entry's data.
    TruncatedData,
    /// The archive ends without the `TRAILER!!!` entry.
    MissingTrailer,
}

impl InitfsErrorKind {
    /// A short English description of the problem.
    pub fn description(self) -> &'static str {
        match self {
            Self::BadMagic => "header does not start with the newc magic 070701",
            Self::TruncatedHeader => "archive ends inside a header",
            Self::NotHexadecimal => "header field is not eight hexadecimal digits",
            Self::TruncatedName => "archive ends inside an entry name",
            Self::BadName => "entry name is empty, unterminated, holds a NUL or is not UTF-8",
            Self::TruncatedData => "archive ends inside entry data",
            Self::MissingTrailer => "archive has no TRAILER!!! entry",
        }
    }
}

impl fmt::Display for InitfsError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "initfs byte {}: {}",
            self.offset,
            self.kind.description()
        )
    }
}
