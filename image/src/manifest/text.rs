//! Strings from the manifest, kept as written and unescaped on demand.

use core::fmt;

/// A string value as written between its quotes, with its escapes (`\"`, `\\`, `\n`, `\t`)
/// still in place, so that it can borrow from the manifest without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Text<'a> {
    raw: &'a str,
}

impl<'a> Text<'a> {
    /// Wraps the validated contents of a quoted string.
    pub(crate) fn new(raw: &'a str) -> Self {
        Self { raw }
    }

    /// The string itself when it contains no escape sequence (the usual case), else `None`.
    pub fn as_str(&self) -> Option<&'a str> {
        if self.raw.contains('\\') {
            None
        } else {
            Some(self.raw)
        }
    }

    /// The string as written between the quotes, escapes included.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The characters of the string with escapes resolved.
    pub fn chars(&self) -> TextCharacters<'a> {
        TextCharacters {
            inner: self.raw.chars(),
        }
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        self.chars().eq(other.chars())
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.chars().eq(other.chars())
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        self.chars()
            .try_for_each(|character| formatter.write_char(character))
    }
}

/// The unescaped characters of a [`Text`].
#[derive(Clone, Debug)]
pub struct TextCharacters<'a> {
    inner: core::str::Chars<'a>,
}

impl Iterator for TextCharacters<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        match self.inner.next()? {
            '\\' => self.inner.next().map(|escaped| match escaped {
                'n' => '\n',
                't' => '\t',
                other => other,
            }),
            other => Some(other),
        }
    }
}

/// Scans a quoted string whose opening quote is already consumed; returns its raw contents and
/// the input after the closing quote.
pub(crate) fn scan_string(input: &str) -> Result<(Text<'_>, &str), &'static str> {
    let bytes = input.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'"' => return Ok((Text::new(&input[..index]), &input[index + 1..])),
            b'\\' => match bytes.get(index + 1) {
                Some(b'"' | b'\\' | b'n' | b't') => index += 2,
                _ => return Err("unknown escape sequence in string"),
            },
            byte if byte < 0x20 && byte != b'\t' || byte == 0x7F => {
                return Err("control character in string")
            }
            _ => index += 1,
        }
    }
    Err("unterminated string")
}
