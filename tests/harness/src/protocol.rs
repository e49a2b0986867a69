//! Reading the guest's test lines and judging a run.

use crate::qemu::Arch;

/// One `test NAME ... ok|FAILED` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestLine {
    /// The test's name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
}

/// The suite's closing line `SUITE-ARCH: N passed, N failed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosingLine {
    /// `SUITE-ARCH`, e.g. `boot-x86_64`.
    pub label: String,
    /// Tests passed.
    pub passed: u32,
    /// Tests failed.
    pub failed: u32,
}

/// `line` without the `[process-name] ` tag the kernel's `debug:` scheme puts before each
/// line a user program writes (a tag holds no white space, unlike the kernel's own
/// `[LEVEL target]` log prefix, which is left alone).
pub fn untagged(line: &str) -> &str {
    let Some(rest) = line.strip_prefix('[') else {
        return line;
    };
    match rest.split_once("] ") {
        Some((tag, text)) if !tag.is_empty() && !tag.contains(char::is_whitespace) => text,
        _ => line,
    }
}

/// Parses a `test NAME ... ok|FAILED` line, tagged by a process or not.
pub fn parse_test_line(line: &str) -> Option<TestLine> {
    let rest = untagged(line).trim_end().strip_prefix("test ")?;
    let (name, result) = rest.rsplit_once(" ... ")?;
    let passed = match result {
        "ok" => true,
        "FAILED" => false,
        _ => return None,
    };
    Some(TestLine {
        name: name.to_string(),
        passed,
    })
}

/// Parses a `LABEL: N passed, N failed` line, tagged by a process or not.
pub fn parse_closing_line(line: &str) -> Option<ClosingLine> {
    let (label, counts) = untagged(line).trim_end().split_once(": ")?;
    if label.is_empty() || label.contains(char::is_whitespace) {
        return None;
    }
    let (passed, failed) = counts.split_once(", ")?;
    let passed = passed.strip_suffix(" passed")?.parse().ok()?;
    let failed = failed.strip_suffix(" failed")?.parse().ok()?;
    Some(ClosingLine {
        label: label.to_string(),
        passed,
        failed,
    })
}

/// How a guest run ended, as the runner saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// QEMU exited with this status code.
    Exited(i32),
    /// QEMU was killed by a signal.
    Killed,
    /// The deadline passed and the harness killed QEMU.
    TimedOut,
}

/// The judgement on one suite run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// `SUITE-ARCH`.
    pub label: String,
    /// Tests the guest reported passed.
    pub passed: u32,
    /// Tests the guest reported failed.
    pub failed: u32,
    /// Why the run failed; empty when it passed.
    pub problems: Vec<String>,
}

impl Verdict {
    /// Whether the run passed.
    pub fn is_pass(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Lines that mean the guest died, whatever the test lines say.
const FATAL_MARKERS: [&str; 2] = ["KERNEL PANIC:", "FATAL: unexpected exception"];

/// Judges the output and ending of a run of `suite` on `arch`.
pub fn judge(suite: &str, arch: Arch, output: &str, ending: &Ending) -> Verdict {
    let label = format!("{suite}-{}", arch.name());
    let mut problems = Vec::new();
    let mut tests = Vec::new();
    let mut closing = None;
    for line in output.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(test) = parse_test_line(line) {
            tests.push(test);
        } else if let Some(found) = parse_closing_line(line) {
            if found.label == label {
                if closing.is_some() {
                    problems.push(format!("more than one closing line for {label}"));
                }
                closing = Some(found);
            }
        }
        if let Some(marker) = FATAL_MARKERS.iter().find(|marker| line.contains(*marker)) {
            problems.push(format!("guest reported `{marker}`: {}", line.trim()));
        }
    }
    let failed_tests: Vec<&str> = tests
        .iter()
        .filter(|test| !test.passed)
        .map(|test| test.name.as_str())
        .collect();
    if !failed_tests.is_empty() {
        problems.push(format!("failed tests: {}", failed_tests.join(", ")));
    }
    let (passed, failed) = match &closing {
        None => {
            problems.push(format!("no closing line `{label}: N passed, N failed`"));
            let passed = tests.iter().filter(|test| test.passed).count() as u32;
            (passed, failed_tests.len() as u32)
        }
        Some(closing) => {
            let counted_passed = tests.iter().filter(|test| test.passed).count() as u32;
            if closing.passed != counted_passed || closing.failed != failed_tests.len() as u32 {
                problems.push(format!(
                    "closing line says {} passed, {} failed but the test lines say {} and {}",
                    closing.passed,
                    closing.failed,
                    counted_passed,
                    failed_tests.len()
                ));
            }
            if closing.passed == 0 {
                problems.push("the suite ran no test".to_string());
            }
            (closing.passed, closing.failed)
        }
    };
    match ending {
        Ending::Exited(code) if *code == arch.success_status() => {}
        Ending::Exited(code) => problems.push(format!(
            "QEMU exited with status {code}, expected {} (success on {})",
            arch.success_status(),
            arch.name()
        )),
        Ending::Killed => problems.push("QEMU was killed by a signal".to_string()),
        Ending::TimedOut => problems.push("timed out: the guest hung".to_string()),
    }
    Verdict {
        label,
        passed,
        failed,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSING: &str = "[INFO  kernel] booting\r\n\
        test one ... ok\n\
        test two ... ok\n\
        boot-x86_64: 2 passed, 0 failed\n";

    #[test]
    fn parses_test_and_closing_lines() {
        assert_eq!(
            parse_test_line("test boot_reached ... ok"),
            Some(TestLine {
                name: "boot_reached".into(),
                passed: true
            })
        );
        assert_eq!(
            parse_test_line("test a b ... FAILED\r"),
            Some(TestLine {
                name: "a b".into(),
                passed: false
            })
        );
        assert_eq!(parse_test_line("test x ... maybe"), None);
        assert_eq!(parse_test_line("testing x ... ok"), None);
        assert_eq!(
            parse_closing_line("dma-aarch64: 14 passed, 0 failed"),
            Some(ClosingLine {
                label: "dma-aarch64".into(),
                passed: 14,
                failed: 0
            })
        );
        assert_eq!(parse_closing_line("dma aarch64: 14 passed, 0 failed"), None);
        assert_eq!(parse_closing_line("x: 1 passed"), None);
    }

    #[test]
    fn process_tags_are_stripped_but_log_prefixes_are_not() {
        assert_eq!(untagged("[process-tests] test a ... ok"), "test a ... ok");
        assert_eq!(untagged("[dmad[2]] test a ... ok"), "test a ... ok");
        assert_eq!(
            untagged("[INFO  kernel] test a ... ok"),
            "[INFO  kernel] test a ... ok"
        );
        assert_eq!(untagged("[] x"), "[] x");
        assert_eq!(
            parse_test_line("[process-tests] test spawn ... FAILED"),
            Some(TestLine {
                name: "spawn".into(),
                passed: false
            })
        );
        assert_eq!(
            parse_closing_line("[process-tests] process-x86_64: 11 passed, 0 failed"),
            Some(ClosingLine {
                label: "process-x86_64".into(),
                passed: 11,
                failed: 0
            })
        );
        assert_eq!(parse_test_line("[INFO  kernel] test a ... ok"), None);
    }

    #[test]
    fn a_clean_run_passes() {
        let verdict = judge("boot", Arch::X86_64, PASSING, &Ending::Exited(33));
        assert!(verdict.is_pass(), "{:?}", verdict.problems);
        assert_eq!((verdict.passed, verdict.failed), (2, 0));
    }

    #[test]
    fn wrong_exit_status_fails() {
        let verdict = judge("boot", Arch::X86_64, PASSING, &Ending::Exited(35));
        assert!(!verdict.is_pass());
        assert!(verdict.problems[0].contains("status 35"));
    }

    #[test]
    fn missing_closing_line_fails() {
        let output = "test one ... ok\n";
        let verdict = judge("boot", Arch::Aarch64, output, &Ending::Exited(0));
        assert!(verdict
            .problems
            .iter()
            .any(|p| p.contains("no closing line")));
    }

    #[test]
    fn closing_line_of_another_arch_does_not_count() {
        let verdict = judge("boot", Arch::Aarch64, PASSING, &Ending::Exited(0));
        assert!(verdict.problems.iter().any(|p| p.contains("boot-aarch64")));
    }

    #[test]
    fn failed_test_fails_even_if_counts_are_consistent() {
        let output = "reason\ntest one ... FAILED\nboot-aarch64: 0 passed, 1 failed\n";
        let verdict = judge("boot", Arch::Aarch64, output, &Ending::Exited(0));
        assert!(verdict
            .problems
            .iter()
            .any(|p| p.contains("failed tests: one")));
        assert!(verdict.problems.iter().any(|p| p.contains("ran no test")));
    }

    #[test]
    fn counts_that_disagree_fail() {
        let output = "test one ... ok\nboot-aarch64: 3 passed, 0 failed\n";
        let verdict = judge("boot", Arch::Aarch64, output, &Ending::Exited(0));
        assert!(verdict
            .problems
            .iter()
            .any(|p| p.contains("test lines say 1")));
    }

    #[test]
    fn panic_and_timeout_fail() {
        let output = format!("{PASSING}KERNEL PANIC: panicked at src/main.rs:1:1: boom\n");
        let verdict = judge("boot", Arch::X86_64, &output, &Ending::TimedOut);
        assert!(verdict.problems.iter().any(|p| p.contains("boom")));
        assert!(verdict.problems.iter().any(|p| p.contains("timed out")));
    }
}
