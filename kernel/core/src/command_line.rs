//! The kernel command line: space-separated `key=value` words and bare flags.
//!
//! coherent reads `log=LEVEL`, `coherent.suite=NAME` (run an in-kernel test suite),
//! `coherent.expect-ram-mib=N` (what the harness gave QEMU with `-m`) and
//! `coherent.selftest=panic|fault` (a deliberately failing guest for the harness's own test)
//! and `coherent.selftest=probe` (take a breakpoint, start init, power off at its first system
//! call: can this accelerator run us?).

/// A parsed view of the command line; borrowing, no allocation.
#[derive(Clone, Copy, Debug, Default)]
pub struct CommandLine<'a> {
    text: &'a str,
}

impl<'a> CommandLine<'a> {
    /// Wraps the raw command line.
    pub const fn new(text: &'a str) -> Self {
        CommandLine { text }
    }

    /// The raw text.
    pub const fn as_str(&self) -> &'a str {
        self.text
    }

    /// The value of the last `key=value` word for `key` (later words override earlier
    /// ones, as on Linux); a bare `key` gives `Some("")`.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.text
            .split_ascii_whitespace()
            .rev()
            .find_map(|word| match word.split_once('=') {
                Some((name, value)) if name == key => Some(value),
                None if word == key => Some(""),
                _ => None,
            })
    }

    /// The value for `key` as a decimal number; `None` if absent or not a number.
    pub fn number(&self, key: &str) -> Option<u64> {
        self.get(key)?.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::CommandLine;

    #[test]
    fn finds_values_flags_and_last_wins() {
        let line = CommandLine::new("log=debug  coherent.suite=boot quiet log=trace");
        assert_eq!(line.get("log"), Some("trace"));
        assert_eq!(line.get("coherent.suite"), Some("boot"));
        assert_eq!(line.get("quiet"), Some(""));
        assert_eq!(line.get("coherent"), None);
        assert_eq!(line.get("suite"), None);
    }

    #[test]
    fn numbers_must_be_decimal() {
        let line = CommandLine::new("coherent.expect-ram-mib=512 bad=12x");
        assert_eq!(line.number("coherent.expect-ram-mib"), Some(512));
        assert_eq!(line.number("bad"), None);
        assert_eq!(line.number("missing"), None);
    }
}
