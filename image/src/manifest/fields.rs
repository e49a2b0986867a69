//! Typed reads of a section's keys, with the error each misuse earns.

use super::document::Section;
use super::error::ManifestError;
use super::line::is_bare_name;
use super::value::{Strings, Value};

/// Rejects any key of `section` not in `allowed`.
pub(crate) fn check_keys(section: &Section<'_>, allowed: &[&str]) -> Result<(), ManifestError> {
    match section
        .entries()
        .find(|entry| !allowed.contains(&entry.key))
    {
        Some(entry) => Err(ManifestError::new(entry.line, "unknown key")),
        None => Ok(()),
    }
}

fn optional<'a, T>(
    section: &Section<'a>,
    key: &str,
    convert: impl FnOnce(Value<'a>) -> Option<T>,
    wrong_type: &'static str,
) -> Result<Option<T>, ManifestError> {
    match section.entry(key) {
        None => Ok(None),
        Some(entry) => convert(entry.value)
            .map(Some)
            .ok_or(ManifestError::new(entry.line, wrong_type)),
    }
}

fn required<T>(
    section: &Section<'_>,
    value: Result<Option<T>, ManifestError>,
    missing: &'static str,
) -> Result<T, ManifestError> {
    value?.ok_or(ManifestError::new(section.line(), missing))
}

/// An optional integer.
pub(crate) fn optional_u64(section: &Section<'_>, key: &str) -> Result<Option<u64>, ManifestError> {
    optional(
        section,
        key,
        |value| value.as_u64(),
        "value must be an integer",
    )
}

/// A required integer; `missing` is the error when it is absent.
pub(crate) fn required_u64(
    section: &Section<'_>,
    key: &str,
    missing: &'static str,
) -> Result<u64, ManifestError> {
    required(section, optional_u64(section, key), missing)
}

/// An optional boolean.
pub(crate) fn optional_bool(
    section: &Section<'_>,
    key: &str,
) -> Result<Option<bool>, ManifestError> {
    optional(
        section,
        key,
        |value| value.as_bool(),
        "value must be true or false",
    )
}

/// An optional non-empty string without escape sequences.
pub(crate) fn optional_str<'a>(
    section: &Section<'a>,
    key: &str,
) -> Result<Option<&'a str>, ManifestError> {
    let text = optional(
        section,
        key,
        |value| value.as_text(),
        "value must be a string",
    )?;
    let Some(text) = text else { return Ok(None) };
    let line = section.entry(key).map_or(0, |entry| entry.line);
    let plain = text.as_str().ok_or(ManifestError::new(
        line,
        "escape sequences are not allowed in this value",
    ))?;
    if plain.is_empty() {
        return Err(ManifestError::new(line, "value must not be empty"));
    }
    Ok(Some(plain))
}

/// A required non-empty string without escape sequences.
pub(crate) fn required_str<'a>(
    section: &Section<'a>,
    key: &str,
    missing: &'static str,
) -> Result<&'a str, ManifestError> {
    required(section, optional_str(section, key), missing)
}

/// An optional array of strings, any content; absent reads as empty.
pub(crate) fn optional_strings<'a>(
    section: &Section<'a>,
    key: &str,
) -> Result<Strings<'a>, ManifestError> {
    let strings = optional(
        section,
        key,
        |value| value.strings(),
        "value must be an array of strings",
    )?;
    Ok(strings.unwrap_or_else(Strings::empty))
}

/// An optional array of names, each checked by `is_valid`; absent reads as empty.
pub(crate) fn optional_names<'a>(
    section: &Section<'a>,
    key: &str,
    is_valid: fn(&str) -> bool,
    invalid: &'static str,
) -> Result<Names<'a>, ManifestError> {
    let strings = optional_strings(section, key)?;
    let line = section.entry(key).map_or(0, |entry| entry.line);
    for text in strings.clone() {
        if !text.as_str().is_some_and(is_valid) {
            return Err(ManifestError::new(line, invalid));
        }
    }
    Ok(Names { strings })
}

/// Whether `name` can name a device: non-empty printable ASCII without whitespace or the
/// characters scheme paths use (`/ : ? & =`).
pub(crate) fn is_device_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && !b"/:?&=".contains(&byte))
}

/// Whether `name` can name a scheme: letters, digits, `-` and `_`.
pub(crate) fn is_scheme_name(name: &str) -> bool {
    is_bare_name(name)
}

/// Plain names from an array of strings, checked when the section was read.
#[derive(Clone, Debug)]
pub struct Names<'a> {
    strings: Strings<'a>,
}

impl<'a> Iterator for Names<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        self.strings.by_ref().find_map(|text| text.as_str())
    }
}
