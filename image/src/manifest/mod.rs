//! The image manifest: `manifest.toml` at the initfs root, in a small subset of TOML.
//!
//! The subset, chosen so a zero-allocation parser can check it line by line:
//! - `# comments`, blank lines, `[section]` and dotted `[pool.virtio-blk0]` headers whose
//!   segments are letters, digits, `-` and `_`;
//! - `key = value` lines with bare keys, where a value is a `"string"` (escapes `\"`, `\\`,
//!   `\n`, `\t`), an unsigned 64-bit integer (decimal or `0x` hexadecimal, `_` between
//!   digits), `true`/`false`, or a one-line array of strings or of integers;
//! - no keys outside a section, no section twice, no key twice in a section.
//!
//! Not supported (each rejected with a reason rather than misread): literal strings,
//! multi-line strings and arrays, inline tables, arrays of tables, dotted or quoted keys,
//! negative numbers, floats, dates.
//!
//! [`Manifest::parse`] checks syntax and hands out the generic view ([`Section`], [`Value`]);
//! the typed views ([`Manifest::image`], [`Manifest::pools`], [`Manifest::processes`]) check
//! the schema the OS uses, and [`Manifest::validate`] runs all of them.

mod document;
mod error;
mod fields;
mod line;
mod schema;
#[cfg(test)]
mod tests;
mod text;
mod value;

pub use document::{Entries, Entry, Manifest, Section, Sections};
pub use error::ManifestError;
pub use fields::Names;
pub use schema::{ImageConfig, Pools, ProcessDeclaration, Processes};
pub use text::{Text, TextCharacters};
pub use value::{Array, ArrayKind, Integers, Strings, Value};
