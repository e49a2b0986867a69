//! Talking to a guest's shell: type a command each time its prompt appears, keep what it
//! answers.
//!
//! The guest's serial port is QEMU's stdin and stdout (`-serial stdio`). [`converse`] reads
//! raw bytes (a prompt ends with no newline), and each time one more prompt has appeared
//! than commands were typed, types the next command and `\r` — as a person at a terminal
//! would. After the last command it waits for QEMU to exit (the last command is expected to
//! end the machine, e.g. `poweroff`) or the deadline. QEMU reads stdin only while the UART
//! has room, so nothing typed is lost.

use crate::protocol::Ending;
use crate::qemu::Machine;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A finished conversation.
#[derive(Clone, Debug)]
pub struct Conversation {
    /// Everything the guest printed (`\r\n` turned into `\n`), then QEMU's own error output.
    pub output: String,
    /// What the guest printed after typing each command, up to the next prompt (or the end):
    /// the echoed command line first. `None` for commands never typed.
    pub answers: Vec<Option<String>>,
    /// How QEMU ended.
    pub ending: Ending,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// Boots `machine` and types `commands` one per `prompt`, echoing each finished console
/// line through `echo`; stops QEMU at `deadline`.
///
/// # Errors
/// Fails only when QEMU cannot be started.
pub fn converse(
    machine: &Machine,
    prompt: &str,
    commands: &[&str],
    deadline: Duration,
    echo: impl FnMut(&str),
) -> std::io::Result<Conversation> {
    converse_command(machine.command(), prompt, commands, deadline, echo)
}

/// Like [`converse`] for any command (the harness's own tests use this directly).
///
/// # Errors
/// Fails only when the command cannot be started.
pub fn converse_command(
    mut command: Command,
    prompt: &str,
    commands: &[&str],
    deadline: Duration,
    mut echo: impl FnMut(&str),
) -> std::io::Result<Conversation> {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let (chunks_sender, chunks) = mpsc::channel::<Vec<u8>>();
    thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(count) = stdout.read(&mut buffer) {
            if count == 0 || chunks_sender.send(buffer[..count].to_vec()).is_err() {
                break;
            }
        }
    });
    let error_reader = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    let mut transcript = String::new();
    let mut echoed = 0;
    let mut typed = 0;
    let mut take = |transcript: &mut String, chunk: &[u8], echoed: &mut usize| {
        transcript.push_str(&String::from_utf8_lossy(chunk).replace('\r', ""));
        while let Some(end) = transcript[*echoed..].find('\n') {
            echo(&transcript[*echoed..*echoed + end]);
            *echoed += end + 1;
        }
    };
    let ending = loop {
        if let Ok(chunk) = chunks.recv_timeout(Duration::from_millis(20)) {
            take(&mut transcript, &chunk, &mut echoed);
            continue;
        }
        if typed < commands.len() && transcript.matches(prompt).count() > typed {
            // Best effort: a QEMU that has gone shows in `try_wait` below.
            let _ = stdin.write_all(format!("{}\r", commands[typed]).as_bytes());
            let _ = stdin.flush();
            typed += 1;
        }
        if let Some(status) = child.try_wait()? {
            while let Ok(chunk) = chunks.recv_timeout(Duration::from_millis(100)) {
                take(&mut transcript, &chunk, &mut echoed);
            }
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
    if echoed < transcript.len() {
        echo(&transcript[echoed..]);
    }
    let answers = answers(&transcript, prompt, commands.len(), typed);
    if ending != Ending::TimedOut {
        let errors = error_reader.join().unwrap_or_default();
        if !errors.trim().is_empty() {
            for line in errors.lines() {
                echo(&format!("qemu: {line}"));
            }
            transcript.push_str(&errors);
        }
    }
    Ok(Conversation {
        output: transcript,
        answers,
        ending,
        elapsed: started.elapsed(),
    })
}

/// The text after each of the first `typed` prompts up to the next prompt or the end.
fn answers(transcript: &str, prompt: &str, count: usize, typed: usize) -> Vec<Option<String>> {
    let pieces: Vec<&str> = transcript.split(prompt).skip(1).collect();
    (0..count)
        .map(|index| (index < typed).then(|| pieces.get(index).copied().unwrap_or("").to_string()))
        .collect()
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
    fn types_a_command_per_prompt_and_keeps_the_answers() {
        // A tiny "guest": prints a prompt, answers each `\r`-ended line it reads.
        let script = "printf 'boot\\r\\n> '; while read -r -d $'\\r' line; do \
                      printf '%s\\r\\nyou said %s\\n' \"$line\" \"$line\"; \
                      [ \"$line\" = bye ] && exit 33; printf '> '; done";
        let mut lines = Vec::new();
        let mut guest = Command::new("bash");
        guest.args(["-c", script]);
        let run = converse_command(
            guest,
            "> ",
            &["hello", "bye"],
            Duration::from_secs(10),
            |line| lines.push(line.to_string()),
        )
        .unwrap();
        assert_eq!(run.ending, Ending::Exited(33));
        let first = run.answers[0].as_deref().unwrap();
        assert!(first.contains("you said hello"), "{first:?}");
        assert!(run.answers[1].as_deref().unwrap().contains("you said bye"));
        assert_eq!(lines[0], "boot");
    }

    #[test]
    fn a_guest_that_never_prompts_times_out_with_nothing_typed() {
        let run = converse_command(
            shell("echo no prompt here; sleep 30"),
            "> ",
            &["hello"],
            Duration::from_millis(300),
            |_| {},
        )
        .unwrap();
        assert_eq!(run.ending, Ending::TimedOut);
        assert_eq!(run.answers, [None]);
    }
}
