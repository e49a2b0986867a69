//! Running a guest under a deadline and capturing its console.

use crate::protocol::Ending;
use crate::qemu::Machine;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// The guest's serial output followed by QEMU's own error output.
    pub output: String,
    /// How it ended.
    pub ending: Ending,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// Boots `machine`, echoing each console line through `echo`, and stops it at `deadline`.
///
/// # Errors
/// Fails only when QEMU cannot be started at all (not installed, not executable).
pub fn run(
    machine: &Machine,
    deadline: Duration,
    echo: impl FnMut(&str),
) -> std::io::Result<RunOutput> {
    run_command(machine.command(), deadline, echo)
}

/// Like [`run`] for any command (the harness's own tests use this directly).
///
/// # Errors
/// Fails only when the command cannot be started.
pub fn run_command(
    mut command: Command,
    deadline: Duration,
    mut echo: impl FnMut(&str),
) -> std::io::Result<RunOutput> {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let (lines_sender, lines) = mpsc::channel::<String>();
    let reader = thread::spawn(move || {
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            let text = String::from_utf8_lossy(&line)
                .trim_end_matches('\r')
                .to_string();
            if lines_sender.send(text).is_err() {
                break;
            }
        }
    });
    let error_reader = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    let mut output = String::new();
    let ending = loop {
        match lines.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => {
                echo(&line);
                output.push_str(&line);
                output.push('\n');
                continue;
            }
            Err(mpsc::RecvTimeoutError::Timeout) | Err(mpsc::RecvTimeoutError::Disconnected) => {}
        }
        if let Some(status) = child.try_wait()? {
            break match status.code() {
                Some(code) => Ending::Exited(code),
                None => Ending::Killed,
            };
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break Ending::TimedOut;
        }
    };
    if ending == Ending::TimedOut {
        // A grandchild may still hold the pipes open; keep what was read and do not wait
        // for the reader threads.
        return Ok(RunOutput {
            output,
            ending,
            elapsed: started.elapsed(),
        });
    }
    let _ = reader.join();
    while let Ok(line) = lines.try_recv() {
        echo(&line);
        output.push_str(&line);
        output.push('\n');
    }
    let errors = error_reader.join().unwrap_or_default();
    if !errors.trim().is_empty() {
        for line in errors.lines() {
            echo(&format!("qemu: {line}"));
        }
        output.push_str(&errors);
    }
    Ok(RunOutput {
        output,
        ending,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn captures_lines_and_exit_status() {
        let mut seen = Vec::new();
        let run = run_command(
            shell("printf 'a\\r\\nb\\n'; exit 33"),
            Duration::from_secs(10),
            |l| seen.push(l.to_string()),
        )
        .unwrap();
        assert_eq!(run.ending, Ending::Exited(33));
        assert_eq!(run.output, "a\nb\n");
        assert_eq!(seen, ["a", "b"]);
    }

    #[test]
    fn kills_a_hung_guest_at_the_deadline() {
        let run = run_command(
            shell("echo started; sleep 30"),
            Duration::from_millis(300),
            |_| {},
        )
        .unwrap();
        assert_eq!(run.ending, Ending::TimedOut);
        assert!(run.elapsed < Duration::from_secs(10));
        assert!(run.output.contains("started"));
    }
}
