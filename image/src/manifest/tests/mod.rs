//! Host tests for the manifest parser and its typed views.

mod schema;
mod syntax;
