//! Values: strings, unsigned integers, booleans and one-line arrays of strings or integers.

use super::text::{scan_string, Text};

/// One value on the right of `key = value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// A double-quoted string.
    String(Text<'a>),
    /// An unsigned integer, decimal or `0x` hexadecimal, `_` allowed between digits.
    Integer(u64),
    /// `true` or `false`.
    Boolean(bool),
    /// A single-line array whose elements are all strings or all integers.
    Array(Array<'a>),
}

/// The element type of an array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrayKind {
    /// `[]`: an empty array, which reads as an empty array of either kind.
    Empty,
    /// Every element is a string.
    Strings,
    /// Every element is an integer.
    Integers,
}

/// A validated array, kept as written between its brackets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Array<'a> {
    inner: &'a str,
    kind: ArrayKind,
}

impl<'a> Array<'a> {
    /// The element type.
    pub fn kind(&self) -> ArrayKind {
        self.kind
    }

    /// The elements as strings, or `None` if this is an array of integers.
    pub fn strings(&self) -> Option<Strings<'a>> {
        (self.kind != ArrayKind::Integers).then_some(Strings { rest: self.inner })
    }

    /// The elements as integers, or `None` if this is an array of strings.
    pub fn integers(&self) -> Option<Integers<'a>> {
        (self.kind != ArrayKind::Strings).then_some(Integers { rest: self.inner })
    }
}

impl<'a> Value<'a> {
    /// The string, if this is a string without escape sequences (see [`Text::as_str`]).
    pub fn as_str(&self) -> Option<&'a str> {
        self.as_text()?.as_str()
    }

    /// The string, if this is a string.
    pub fn as_text(&self) -> Option<Text<'a>> {
        match self {
            Self::String(text) => Some(*text),
            _ => None,
        }
    }

    /// The integer, if this is an integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Self::Integer(value) => Some(*value),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Boolean(value) => Some(*value),
            _ => None,
        }
    }

    /// The elements, if this is an array of strings (or empty).
    pub fn strings(&self) -> Option<Strings<'a>> {
        match self {
            Self::Array(array) => array.strings(),
            _ => None,
        }
    }

    /// The elements, if this is an array of integers (or empty).
    pub fn integers(&self) -> Option<Integers<'a>> {
        match self {
            Self::Array(array) => array.integers(),
            _ => None,
        }
    }

    /// The name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::String(_) => "string",
            Self::Integer(_) => "integer",
            Self::Boolean(_) => "boolean",
            Self::Array(_) => "array",
        }
    }
}

/// The strings of an array, in order.
#[derive(Clone, Debug)]
pub struct Strings<'a> {
    rest: &'a str,
}

impl<'a> Strings<'a> {
    /// An iterator over no strings, for optional keys that are absent.
    pub fn empty() -> Self {
        Self { rest: "" }
    }
}

impl<'a> Iterator for Strings<'a> {
    type Item = Text<'a>;

    fn next(&mut self) -> Option<Text<'a>> {
        let rest = skip_separators(self.rest).strip_prefix('"')?;
        // The array was validated when the manifest was parsed.
        let (text, rest) = scan_string(rest).ok()?;
        self.rest = rest;
        Some(text)
    }
}

/// The integers of an array, in order.
#[derive(Clone, Debug)]
pub struct Integers<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Integers<'a> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let rest = skip_separators(self.rest);
        if rest.is_empty() {
            return None;
        }
        let (token, rest) = split_token(rest);
        self.rest = rest;
        parse_integer(token).ok()
    }
}

fn skip_separators(input: &str) -> &str {
    input.trim_start_matches(|character: char| character == ',' || is_space(character))
}

/// Whether `character` is TOML whitespace (space or tab).
pub(crate) fn is_space(character: char) -> bool {
    character == ' ' || character == '\t'
}

/// Splits off a bare token (integer or boolean) up to whitespace, `,`, `]` or `#`.
fn split_token(input: &str) -> (&str, &str) {
    let end = input
        .find(|character: char| is_space(character) || matches!(character, ',' | ']' | '#'))
        .unwrap_or(input.len());
    input.split_at(end)
}

/// Parses the value at the start of `input`; returns it and the rest of the line.
pub(crate) fn parse_value(input: &str) -> Result<(Value<'_>, &str), &'static str> {
    if let Some(rest) = input.strip_prefix('[') {
        return parse_array(rest);
    }
    parse_scalar(input)
}

fn parse_scalar(input: &str) -> Result<(Value<'_>, &str), &'static str> {
    if let Some(rest) = input.strip_prefix('"') {
        let (text, rest) = scan_string(rest)?;
        return Ok((Value::String(text), rest));
    }
    let (token, rest) = split_token(input);
    let value = match token {
        "" => return Err("missing value"),
        "true" => Value::Boolean(true),
        "false" => Value::Boolean(false),
        _ if token.starts_with(|character: char| character.is_ascii_digit()) => {
            Value::Integer(parse_integer(token)?)
        }
        _ if token.starts_with(['-', '+']) => return Err("only unsigned integers are supported"),
        _ if token.starts_with('\'') => return Err("literal strings are not supported"),
        _ if token.starts_with('{') => return Err("inline tables are not supported"),
        _ => return Err("value is not a string, integer, boolean or array"),
    };
    Ok((value, rest))
}

fn parse_array(input: &str) -> Result<(Value<'_>, &str), &'static str> {
    let mut kind = ArrayKind::Empty;
    let mut rest = input.trim_start_matches(is_space);
    loop {
        if let Some(after) = rest.strip_prefix(']') {
            let inner = &input[..input.len() - rest.len()];
            return Ok((Value::Array(Array { inner, kind }), after));
        }
        if rest.starts_with('[') {
            return Err("nested arrays are not supported");
        }
        let (element, after) = parse_scalar(rest)?;
        let element_kind = match element {
            Value::String(_) => ArrayKind::Strings,
            Value::Integer(_) => ArrayKind::Integers,
            _ => return Err("array elements must be strings or integers"),
        };
        if kind != ArrayKind::Empty && kind != element_kind {
            return Err("array mixes strings and integers");
        }
        kind = element_kind;
        rest = after.trim_start_matches(is_space);
        if let Some(after_comma) = rest.strip_prefix(',') {
            rest = after_comma.trim_start_matches(is_space);
        } else if !rest.starts_with(']') {
            return Err("expected ',' or ']' in array");
        }
    }
}

/// Parses an unsigned decimal or `0x` hexadecimal integer with optional `_` between digits.
pub(crate) fn parse_integer(token: &str) -> Result<u64, &'static str> {
    let (digits, radix) = match token.strip_prefix("0x") {
        Some(digits) => (digits, 16),
        None => (token, 10),
    };
    if digits.is_empty() {
        return Err("integer has no digits");
    }
    if digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return Err("'_' in an integer must sit between digits");
    }
    if radix == 10 && digits.len() > 1 && digits.starts_with('0') {
        return Err("decimal integer has a leading zero");
    }
    let mut value: u64 = 0;
    for character in digits.chars().filter(|character| *character != '_') {
        let digit = character
            .to_digit(radix)
            .ok_or("invalid digit in integer")?;
        value = value
            .checked_mul(u64::from(radix))
            .and_then(|value| value.checked_add(u64::from(digit)))
            .ok_or("integer does not fit in 64 bits")?;
    }
    Ok(value)
}
