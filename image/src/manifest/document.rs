//! The generic view: a validated manifest, its sections and their key-value entries.

use super::error::ManifestError;
use super::line::{parse_line, Line, Lines};
use super::value::Value;

/// A manifest whose syntax has been checked, borrowing its text.
#[derive(Clone, Copy, Debug)]
pub struct Manifest<'a> {
    text: &'a str,
}

/// One `[section]` and the entries up to the next header.
#[derive(Clone, Copy, Debug)]
pub struct Section<'a> {
    name: &'a str,
    line: usize,
    body: &'a str,
}

/// One `key = value` line of a section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The key.
    pub key: &'a str,
    /// The value.
    pub value: Value<'a>,
    /// The line it sits on.
    pub line: usize,
}

impl<'a> Manifest<'a> {
    /// Checks the whole text: every line's syntax, no key before the first section, no
    /// section twice, no key twice within a section.
    ///
    /// This checks syntax only; [`Manifest::validate`] checks the schema.
    ///
    /// # Errors
    ///
    /// The first problem, with its line.
    pub fn parse(text: &'a str) -> Result<Self, ManifestError> {
        let mut in_section = false;
        for (number, line) in Lines::new(text, 1) {
            match parse_line(line).map_err(|reason| ManifestError::new(number, reason))? {
                Line::Blank => {}
                Line::Header(_) => in_section = true,
                Line::KeyValue(..) if !in_section => {
                    return Err(ManifestError::new(number, "key before any [section]"))
                }
                Line::KeyValue(..) => {}
            }
        }
        let manifest = Self { text };
        for (index, section) in manifest.sections().enumerate() {
            if manifest
                .sections()
                .take(index)
                .any(|earlier| earlier.name == section.name)
            {
                return Err(ManifestError::new(section.line, "duplicate section"));
            }
            for (position, entry) in section.entries().enumerate() {
                if section
                    .entries()
                    .take(position)
                    .any(|earlier| earlier.key == entry.key)
                {
                    return Err(ManifestError::new(entry.line, "duplicate key in section"));
                }
            }
        }
        Ok(manifest)
    }

    /// The sections in file order.
    pub fn sections(&self) -> Sections<'a> {
        Sections {
            lines: Lines::new(self.text, 1),
        }
    }

    /// The section called `name` (e.g. `"image"` or `"pool.virtio-blk0"`).
    pub fn section(&self, name: &str) -> Option<Section<'a>> {
        self.sections().find(|section| section.name == name)
    }
}

impl<'a> Section<'a> {
    /// The name between the brackets, dots included.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The line of the header.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The entries in file order.
    pub fn entries(&self) -> Entries<'a> {
        Entries {
            lines: Lines::new(self.body, self.line + 1),
        }
    }

    /// The entry for `key`, with its line.
    pub fn entry(&self, key: &str) -> Option<Entry<'a>> {
        self.entries().find(|entry| entry.key == key)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.entry(key).map(|entry| entry.value)
    }
}

/// Iterator over a manifest's sections.
#[derive(Clone, Debug)]
pub struct Sections<'a> {
    lines: Lines<'a>,
}

impl<'a> Iterator for Sections<'a> {
    type Item = Section<'a>;

    fn next(&mut self) -> Option<Section<'a>> {
        for (number, line) in self.lines.by_ref() {
            if let Ok(Line::Header(name)) = parse_line(line) {
                return Some(Section {
                    name,
                    line: number,
                    body: self.lines.remainder(),
                });
            }
        }
        None
    }
}

/// Iterator over a section's entries.
#[derive(Clone, Debug)]
pub struct Entries<'a> {
    lines: Lines<'a>,
}

impl<'a> Iterator for Entries<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        for (number, line) in self.lines.by_ref() {
            match parse_line(line) {
                Ok(Line::KeyValue(key, value)) => {
                    return Some(Entry {
                        key,
                        value,
                        line: number,
                    })
                }
                Ok(Line::Blank) => {}
                // The next section starts here (errors were ruled out by `Manifest::parse`).
                Ok(Line::Header(_)) | Err(_) => {
                    self.lines = Lines::new("", number);
                    return None;
                }
            }
        }
        None
    }
}
