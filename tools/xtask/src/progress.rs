//! What `cargo xtask test` shows on the terminal: one line when a step starts and one when
//! it ends, the full output of each step kept in a file under `target/test-logs/`, and the
//! last [`TAIL_LINES`] lines of a failed step's log printed inline so the failure is read
//! where it happened. The closing summary table (in `test.rs`) is unchanged.
//!
//! Log files: `target/test-logs/SUITE-ARCH.log` for a guest suite (the guest's whole serial
//! console), `host-tests.log` and `harness-self-test.log` for the host steps. Each run of a
//! step replaces its file.
//!
//! A progress line starts with the time since the first step started:
//!
//! ```text
//! [  2:05] start  boot-x86_64 (tcg)
//! [  2:37] ok     boot-x86_64: 24 passed, 0 failed (tcg, exit 33, 31.6 s)
//! ```

use crate::{workspace_root, Result};
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

/// Lines of a failed step's log printed inline.
pub const TAIL_LINES: usize = 60;

/// When the first step started.
static RUN_STARTED: OnceLock<Instant> = OnceLock::new();

/// Where the logs go.
pub fn log_directory() -> PathBuf {
    let root = workspace_root();
    root.canonicalize()
        .unwrap_or(root)
        .join("target")
        .join("test-logs")
}

/// `[ M:SS]` since the first step started.
fn stamp() -> String {
    let elapsed = RUN_STARTED.get_or_init(Instant::now).elapsed().as_secs();
    format!("[{:>3}:{:02}]", elapsed / 60, elapsed % 60)
}

/// A step between its start and end lines.
pub struct Step {
    label: String,
}

impl Step {
    /// Prints the start line of step `label` (`what`: the accelerator and such, in
    /// parentheses when not empty).
    pub fn start(label: &str, what: &str) -> Step {
        let what = if what.is_empty() {
            String::new()
        } else {
            format!(" ({what})")
        };
        println!("{} start  {label}{what}", stamp());
        Step {
            label: label.to_string(),
        }
    }

    /// Prints the end line: `ok` or `FAILED`, then `detail`.
    pub fn end(self, passed: bool, detail: &str) {
        let mark = if passed { "ok    " } else { "FAILED" };
        println!("{} {mark} {}: {detail}", stamp(), self.label);
    }
}

/// A step's log file, written line by line as the guest prints (unbuffered, so
/// `tail -f target/test-logs/SUITE-ARCH.log` follows a running suite).
pub struct Log {
    path: PathBuf,
    writer: Option<File>,
}

impl Log {
    /// Creates (or empties) `target/test-logs/NAME.log`.
    pub fn create(name: &str) -> Result<Log> {
        let directory = log_directory();
        std::fs::create_dir_all(&directory)
            .map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
        let path = directory.join(format!("{name}.log"));
        let file = File::create(&path)
            .map_err(|error| format!("cannot create {}: {error}", path.display()))?;
        Ok(Log {
            path,
            writer: Some(file),
        })
    }

    /// Appends `line` (a failed write stops the logging, not the test).
    pub fn line(&mut self, line: &str) {
        if let Some(writer) = self.writer.as_mut() {
            if writeln!(writer, "{line}").is_err() {
                self.writer = None;
            }
        }
    }

    /// Appends `text` as it is.
    pub fn text(&mut self, text: &str) {
        if let Some(writer) = self.writer.as_mut() {
            if writer.write_all(text.as_bytes()).is_err() {
                self.writer = None;
            }
        }
    }

    /// Closes the file and returns its path.
    pub fn finish(self) -> PathBuf {
        self.path
    }
}

/// The last `count` lines of `output`.
pub fn tail(output: &str, count: usize) -> Vec<&str> {
    let lines: Vec<&str> = output.lines().collect();
    lines[lines.len().saturating_sub(count)..].to_vec()
}

/// Prints a failed step's log tail, framed, naming the file that has it all.
pub fn print_tail(label: &str, output: &str, path: &std::path::Path) {
    let lines = tail(output, TAIL_LINES);
    println!(
        "--- {label}: the last {} lines of {} ---",
        lines.len(),
        path.display()
    );
    for line in lines {
        println!("    {line}");
    }
    println!("--- end of {label} ---");
}

/// Runs `command` with its output in `target/test-logs/NAME.log` between the start and end
/// lines of step `label`; on failure prints the log's tail. Returns whether it succeeded
/// and a detail for the summary (`ok_detail` when it did).
pub fn run_logged(
    command: &mut Command,
    name: &str,
    label: &str,
    ok_detail: &str,
) -> (bool, String) {
    let step = Step::start(label, "");
    let output = command.output();
    let (passed, text, detail) = match output {
        Ok(output) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            let detail = if output.status.success() {
                ok_detail.to_string()
            } else {
                format!("failed ({})", output.status)
            };
            (output.status.success(), text, detail)
        }
        Err(error) => (
            false,
            String::new(),
            format!("cannot run {command:?}: {error}"),
        ),
    };
    let path = match Log::create(name) {
        Ok(mut log) => {
            log.text(&text);
            Some(log.finish())
        }
        Err(problem) => {
            println!("xtask: {problem}");
            None
        }
    };
    if !passed {
        match &path {
            Some(path) => print_tail(label, &text, path),
            None => println!("{text}"),
        }
    }
    let shown = match &path {
        Some(path) if passed => format!("{detail} (log: {})", path.display()),
        _ => detail.clone(),
    };
    step.end(passed, &shown);
    (passed, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), ["b", "c"]);
        assert_eq!(tail("a\nb", 5), ["a", "b"]);
        assert!(tail("", 3).is_empty());
    }

    #[test]
    fn a_log_holds_every_line() {
        let mut log = Log::create("xtask-unit-test").unwrap();
        log.line("first");
        log.text("second\n");
        let path = log.finish();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\nsecond\n");
        let _ = std::fs::remove_file(path);
    }
}
