//! Numbers in request paths: decimal, or hexadecimal after `0x`.

/// Parses `text` as a decimal or `0x` hexadecimal `u64`; `None` when empty, malformed or
/// too large. No sign, no `_`, no whitespace.
pub fn parse_number(text: &str) -> Option<u64> {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (text, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

#[cfg(test)]
mod tests {
    use super::parse_number;

    #[test]
    fn decimal_and_hex() {
        assert_eq!(parse_number("4096"), Some(4096));
        assert_eq!(parse_number("0x1000"), Some(4096));
        assert_eq!(parse_number("0xffffffffffffffff"), Some(u64::MAX));
        for bad in [
            "",
            "0x",
            "-1",
            "+1",
            "1_000",
            "12a",
            "0x1g",
            "18446744073709551616",
            " 1",
        ] {
            assert_eq!(parse_number(bad), None, "{bad:?}");
        }
    }
}
