//! Scheme URLs: `NAME:rest` and `/scheme/NAME/rest` name the same thing.

/// Why a path names no scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// Empty, not UTF-8, or no scheme part.
    Malformed,
}

/// The most bytes a scheme path may have.
pub const MAX_PATH: usize = 4096;

/// Splits `path` into (scheme name, path inside the scheme). Scheme names are non-empty,
/// ASCII letters, digits, `-`, `_` or `.`. The inner path has leading slashes removed.
pub fn parse(path: &str) -> Result<(&str, &str), PathError> {
    let (scheme, rest) = if let Some(after) = path.strip_prefix("/scheme/") {
        match after.split_once('/') {
            Some((scheme, rest)) => (scheme, rest),
            None => (after, ""),
        }
    } else {
        path.split_once(':').ok_or(PathError::Malformed)?
    };
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if scheme.is_empty() || !scheme.chars().all(valid) || path.len() > MAX_PATH {
        return Err(PathError::Malformed);
    }
    Ok((scheme, rest.trim_start_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_name_the_same_thing() {
        assert_eq!(
            parse("dma:/virtio-blk0/alloc"),
            Ok(("dma", "virtio-blk0/alloc"))
        );
        assert_eq!(
            parse("/scheme/dma/virtio-blk0/alloc"),
            Ok(("dma", "virtio-blk0/alloc"))
        );
        assert_eq!(parse("initfs:bin/init"), Ok(("initfs", "bin/init")));
        assert_eq!(parse("debug:"), Ok(("debug", "")));
        assert_eq!(parse("/scheme/sys"), Ok(("sys", "")));
    }

    #[test]
    fn malformed_paths_are_refused() {
        for path in [
            "",
            "no-scheme",
            ":x",
            "/scheme/",
            "a b:c",
            "/scheme//x",
            "dm\u{e9}:x",
        ] {
            assert_eq!(parse(path), Err(PathError::Malformed), "{path:?}");
        }
    }
}
