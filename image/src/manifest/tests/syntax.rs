//! Tests of the TOML subset: values, sections, comments and every syntax error.

use crate::manifest::{ArrayKind, Manifest, ManifestError, Value};

fn error_of(text: &str) -> ManifestError {
    Manifest::parse(text).unwrap_err()
}

#[test]
fn values_of_every_type() {
    let text = "\
# leading comment

[types]   # trailing comment
text = \"hello # not a comment\"
decimal = 1_000_000
hex = 0xdead_BEEF
zero = 0
max = 0xffff_ffff_ffff_ffff
yes = true
no=false
names = [\"a\", \"b,]\" , \"c\",]
numbers = [1, 0x10,2]
empty = []
";
    let manifest = Manifest::parse(text).unwrap();
    let section = manifest.section("types").unwrap();
    assert_eq!(section.line(), 3);
    assert_eq!(
        section.get("text").unwrap().as_str(),
        Some("hello # not a comment")
    );
    assert_eq!(section.get("decimal").unwrap().as_u64(), Some(1_000_000));
    assert_eq!(section.get("hex").unwrap().as_u64(), Some(0xdead_beef));
    assert_eq!(section.get("zero").unwrap().as_u64(), Some(0));
    assert_eq!(section.get("max").unwrap().as_u64(), Some(u64::MAX));
    assert_eq!(section.get("yes").unwrap().as_bool(), Some(true));
    assert_eq!(section.get("no").unwrap().as_bool(), Some(false));
    let names: Vec<_> = section.get("names").unwrap().strings().unwrap().collect();
    assert_eq!(names, ["a", "b,]", "c"]);
    let numbers: Vec<_> = section
        .get("numbers")
        .unwrap()
        .integers()
        .unwrap()
        .collect();
    assert_eq!(numbers, [1, 16, 2]);
    let empty = section.get("empty").unwrap();
    assert!(matches!(empty, Value::Array(array) if array.kind() == ArrayKind::Empty));
    assert_eq!(empty.strings().unwrap().count(), 0);
    assert_eq!(empty.integers().unwrap().count(), 0);
    assert!(section.get("numbers").unwrap().strings().is_none());
    assert!(section.get("text").unwrap().as_u64().is_none());
    assert!(section.get("missing").is_none());
    assert_eq!(section.entries().count(), 10);
    assert_eq!(section.get("hex").unwrap().type_name(), "integer");
}

#[test]
fn escapes_are_resolved_on_demand() {
    let manifest = Manifest::parse("[s]\nquoted = \"say \\\"hi\\\"\\n\\\\ \\tend\"\n").unwrap();
    let value = manifest.section("s").unwrap().get("quoted").unwrap();
    assert_eq!(value.as_str(), None);
    let text = value.as_text().unwrap();
    assert_eq!(text.raw(), "say \\\"hi\\\"\\n\\\\ \\tend");
    assert_eq!(text.to_string(), "say \"hi\"\n\\ \tend");
    assert!(text == "say \"hi\"\n\\ \tend");
    let strings: Vec<String> = Manifest::parse("[s]\na = [\"x\\\"y\", \"z\"]")
        .unwrap()
        .section("s")
        .unwrap()
        .get("a")
        .unwrap()
        .strings()
        .unwrap()
        .map(|text| text.to_string())
        .collect();
    assert_eq!(strings, ["x\"y", "z"]);
}

#[test]
fn sections_keep_file_order_and_dotted_names() {
    let text =
        "[image]\nname = \"x\"\r\n\r\n[pool.virtio-blk0]\nsize = 1\n[pool.b_2]\n[process.dmad]\n";
    let manifest = Manifest::parse(text).unwrap();
    let names: Vec<_> = manifest.sections().map(|section| section.name()).collect();
    assert_eq!(
        names,
        ["image", "pool.virtio-blk0", "pool.b_2", "process.dmad"]
    );
    let lines: Vec<_> = manifest.sections().map(|section| section.line()).collect();
    assert_eq!(lines, [1, 4, 6, 7]);
    assert_eq!(manifest.section("image").unwrap().entries().count(), 1);
    assert_eq!(manifest.section("pool.b_2").unwrap().entries().count(), 0);
    assert_eq!(
        manifest
            .section("pool.virtio-blk0")
            .unwrap()
            .entry("size")
            .unwrap()
            .line,
        5
    );
    assert_eq!(Manifest::parse("").unwrap().sections().count(), 0);
    assert_eq!(
        Manifest::parse("[ spaced.name ]")
            .unwrap()
            .sections()
            .next()
            .unwrap()
            .name(),
        "spaced.name"
    );
}

#[test]
fn syntax_errors_name_their_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("key = 1", 1, "key before any [section]"),
        ("[a]\n[a]", 2, "duplicate section"),
        ("[a]\nk = 1\n\nk = 2", 4, "duplicate key in section"),
        ("[a", 1, "section header lacks ']'"),
        (
            "[a..b]",
            1,
            "section name must be dot-separated letters, digits, '-' or '_'",
        ),
        (
            "[]",
            1,
            "section name must be dot-separated letters, digits, '-' or '_'",
        ),
        (
            "[a b]",
            1,
            "section name must be dot-separated letters, digits, '-' or '_'",
        ),
        ("[[a]]", 1, "arrays of tables are not supported"),
        ("[a] x", 1, "unexpected text after value"),
        ("[a]\njust words", 2, "expected 'key = value'"),
        ("[a]\nk =", 2, "missing value"),
        ("[a]\nk = \"open", 2, "unterminated string"),
        ("[a]\nk = \"\\q\"", 2, "unknown escape sequence in string"),
        ("[a]\nk = 'lit'", 2, "literal strings are not supported"),
        ("[a]\nk = -1", 2, "only unsigned integers are supported"),
        ("[a]\nk = 0x", 2, "integer has no digits"),
        (
            "[a]\nk = 1__0",
            2,
            "'_' in an integer must sit between digits",
        ),
        (
            "[a]\nk = 1_",
            2,
            "'_' in an integer must sit between digits",
        ),
        ("[a]\nk = 012", 2, "decimal integer has a leading zero"),
        ("[a]\nk = 12a", 2, "invalid digit in integer"),
        (
            "[a]\nk = 0x1_0000_0000_0000_0000",
            2,
            "integer does not fit in 64 bits",
        ),
        (
            "[a]\nk = 18446744073709551616",
            2,
            "integer does not fit in 64 bits",
        ),
        (
            "[a]\nk = yes",
            2,
            "value is not a string, integer, boolean or array",
        ),
        ("[a]\nk = {x = 1}", 2, "inline tables are not supported"),
        ("[a]\nk = 1 2", 2, "unexpected text after value"),
        ("[a]\nk = [1, \"a\"]", 2, "array mixes strings and integers"),
        (
            "[a]\nk = [true]",
            2,
            "array elements must be strings or integers",
        ),
        ("[a]\nk = [[1]]", 2, "nested arrays are not supported"),
        ("[a]\nk = [1 2]", 2, "expected ',' or ']' in array"),
        ("[a]\nk = [1,", 2, "missing value"),
        ("[a]\nk = [,]", 2, "missing value"),
        ("[a]\na.b = 1", 2, "dotted keys are not supported"),
        ("[a]\n\"k\" = 1", 2, "quoted keys are not supported"),
        ("[a]\nk!= 1", 2, "key must be letters, digits, '-' or '_'"),
        ("[a]\nk = \"a\u{1}\"", 2, "control character in string"),
    ];
    for (text, line, reason) in cases {
        assert_eq!(
            error_of(text),
            ManifestError::new(*line, reason),
            "{text:?}"
        );
    }
    assert_eq!(
        error_of("[a]\n[a]").to_string(),
        "manifest line 2: duplicate section"
    );
}

#[test]
fn every_prefix_parses_or_errors_without_panicking() {
    let text = include_str!("sample.toml");
    for end in 0..=text.len() {
        if text.is_char_boundary(end) {
            let _ = Manifest::parse(&text[..end]).map(|manifest| manifest.validate());
        }
    }
}
