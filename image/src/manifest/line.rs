//! Splitting the text into numbered lines and reading each one: blank, header or key-value.

use super::value::{is_space, parse_value, Value};

/// One line's meaning.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Line<'a> {
    /// Blank or comment only.
    Blank,
    /// `[name]` or `[dotted.name]`.
    Header(&'a str),
    /// `key = value`.
    KeyValue(&'a str, Value<'a>),
}

/// The lines of a text with their 1-based numbers; a trailing `\r` is dropped.
#[derive(Clone, Debug)]
pub(crate) struct Lines<'a> {
    rest: Option<&'a str>,
    number: usize,
}

impl<'a> Lines<'a> {
    /// The lines of `text`, numbered from `first_number`.
    pub(crate) fn new(text: &'a str, first_number: usize) -> Self {
        Self {
            rest: Some(text).filter(|text| !text.is_empty()),
            number: first_number,
        }
    }

    /// The text not yet returned.
    pub(crate) fn remainder(&self) -> &'a str {
        self.rest.unwrap_or("")
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        let text = self.rest?;
        let (line, rest) = match text.split_once('\n') {
            Some((line, rest)) => (line, Some(rest)),
            None => (text, None),
        };
        // A text ending in '\n' has no extra empty line after it.
        self.rest = rest.filter(|rest| !rest.is_empty());
        let number = self.number;
        self.number += 1;
        Some((number, line.strip_suffix('\r').unwrap_or(line)))
    }
}

/// Whether `name` is a non-empty run of letters, digits, `-` and `_`.
pub(crate) fn is_bare_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// Reads one line.
pub(crate) fn parse_line(line: &str) -> Result<Line<'_>, &'static str> {
    let line = line.trim_start_matches(is_space);
    if line.is_empty() || line.starts_with('#') {
        return Ok(Line::Blank);
    }
    if let Some(rest) = line.strip_prefix('[') {
        if rest.starts_with('[') {
            return Err("arrays of tables are not supported");
        }
        let (name, rest) = rest.split_once(']').ok_or("section header lacks ']'")?;
        let name = name.trim_matches(is_space);
        if !name.split('.').all(is_bare_name) {
            return Err("section name must be dot-separated letters, digits, '-' or '_'");
        }
        end_of_line(rest)?;
        return Ok(Line::Header(name));
    }
    let (key, rest) = line.split_once('=').ok_or("expected 'key = value'")?;
    let key = key.trim_end_matches(is_space);
    if key.contains('.') {
        return Err("dotted keys are not supported");
    }
    if key.starts_with('"') {
        return Err("quoted keys are not supported");
    }
    if !is_bare_name(key) {
        return Err("key must be letters, digits, '-' or '_'");
    }
    let (value, rest) = parse_value(rest.trim_start_matches(is_space))?;
    end_of_line(rest)?;
    Ok(Line::KeyValue(key, value))
}

/// Accepts only whitespace and an optional comment.
fn end_of_line(rest: &str) -> Result<(), &'static str> {
    let rest = rest.trim_start_matches(is_space);
    if rest.is_empty() || rest.starts_with('#') {
        Ok(())
    } else {
        Err("unexpected text after value")
    }
}
